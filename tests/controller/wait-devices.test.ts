/**
 * A device whose backing disk is missing waits for it: `apply` (converge)
 * keeps waiting until the disk appears or its timeout ends, and the device is
 * created as soon as the disk shows up, without a new pass being asked for.
 */
import test from 'ava';
import { deviceSpec } from './builders.js';
import { MemorySpecs, newController, newKernel, SPARE_SECTORS } from './simWorld.js';

test('converge waits for a disk that appears late and creates the device then', async (t) => {
  const kernel = newKernel(['a']);
  const late = deviceSpec('late');
  kernel.addBlockDevice(late.mainDevice, 65_536);
  const specs = new MemorySpecs();
  specs.set('a');
  specs.set('late');
  const controller = newController(kernel, specs, { waitPollMs: 10 });
  const converging = controller.converge(5_000);
  // The spare shows up only once the device has been seen waiting for it.
  await controller.waitUntil(
    (report) => report.name !== 'late' || report.state === 'waitingForDevices',
    5_000,
  );
  kernel.addBlockDevice(late.spareDevice, SPARE_SECTORS);
  const { reports, timedOut } = await converging;
  await controller.stop(5_000);
  t.false(timedOut);
  t.deepEqual(
    reports.map((report) => [report.name, report.state]),
    [
      ['a', 'active'],
      ['late', 'active'],
    ],
  );
});

test('a disk that never appears: converge gives up at its timeout, the other devices converged', async (t) => {
  const kernel = newKernel(['a']);
  const specs = new MemorySpecs();
  specs.set('a');
  specs.set('ghost');
  const controller = newController(kernel, specs, { waitPollMs: 10 });
  const { reports, timedOut } = await controller.converge(3_000);
  await controller.stop(5_000);
  t.true(timedOut);
  t.like(reports[0], { name: 'a', state: 'active', converged: true });
  t.like(reports[1], { name: 'ghost', state: 'waitingForDevices', converged: false });
  t.regex(reports[1]?.operation?.reason ?? '', /waiting for main device .* and spare device/);
});

test('the daemon wakes a waiting device when its disk appears, with no pass asked for', async (t) => {
  const kernel = newKernel([]);
  const specs = new MemorySpecs();
  specs.set('hot');
  const controller = newController(kernel, specs, { waitPollMs: 10 });
  await controller.reconcileAll();
  await controller.waitUntil((report) => report.state === 'waitingForDevices', 5_000);
  const spec = deviceSpec('hot');
  kernel.addBlockDevice(spec.mainDevice, 65_536);
  kernel.addBlockDevice(spec.spareDevice, SPARE_SECTORS);
  const active = await controller.waitUntil((report) => report.state === 'active', 5_000);
  await controller.stop(5_000);
  t.true(active);
  t.is((await kernel.observe()).devices[0]?.name, 'hot');
});

test('a device past its own deviceTimeout is given up on: converge does not wait out the whole timeout for it', async (t) => {
  const kernel = newKernel(['a']);
  const specs = new MemorySpecs();
  specs.set('a');
  specs.set('ghost', { deviceTimeoutMs: 200 });
  specs.set('optional', { deviceTimeoutMs: 100, nofail: true });
  const controller = newController(kernel, specs, { waitPollMs: 10 });
  const { reports, timedOut, gaveUpWaiting } = await controller.converge(60_000);
  await controller.stop(5_000);
  t.false(timedOut);
  t.like(reports[0], { name: 'a', state: 'active', converged: true });
  t.like(reports[1], { name: 'ghost', state: 'waitingForDevices', converged: false });
  t.like(reports[2], { name: 'optional', state: 'waitingForDevices', converged: false });
  t.deepEqual(gaveUpWaiting, [
    { name: 'ghost', nofail: false, deviceTimeoutMs: 200 },
    { name: 'optional', nofail: true, deviceTimeoutMs: 100 },
  ]);
});

test('a disk that appears within its deviceTimeout is waited for, however short the others are', async (t) => {
  const kernel = newKernel([]);
  const specs = new MemorySpecs();
  const late = specs.set('late', { deviceTimeoutMs: 30_000 });
  specs.set('ghost', { deviceTimeoutMs: 50 });
  kernel.addBlockDevice(late.mainDevice, 65_536);
  const controller = newController(kernel, specs, { waitPollMs: 10 });
  const converging = controller.converge(60_000);
  await controller.waitUntil((report) => report.state === 'waitingForDevices', 5_000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  kernel.addBlockDevice(late.spareDevice, SPARE_SECTORS);
  const { reports, gaveUpWaiting } = await converging;
  await controller.stop(5_000);
  t.like(reports[1], { name: 'late', state: 'active' });
  t.deepEqual(
    gaveUpWaiting.map((device) => device.name),
    ['ghost'],
  );
});
