/** SimulatedKernel behaviour beyond the shared contract: its test hooks, fault injection and crash points. */
import test from 'ava';

import { KernelError } from '../../reconciler/kernel/adapter.js';
import { SimulatedCrash, SimulatedKernel } from '../../reconciler/kernel/simulated.js';

async function kernelWithDisks() {
  const kernel = new SimulatedKernel({ hangTimeoutMs: 50 });
  await kernel.loadModule();
  const main = kernel.addBlockDevice('/dev/vda', 8192);
  const spare = kernel.addBlockDevice('/dev/vdb', 800);
  const table = `0 8192 remap ${main.path} ${spare.path} 4 block_size 8 read_retries 3`;
  return { kernel, main, spare, table };
}

test('the remap target is unknown until the module is loaded', async (t) => {
  const kernel = new SimulatedKernel();
  kernel.addBlockDevice('/dev/vda', 96);
  kernel.addBlockDevice('/dev/vdb', 96);
  const desired = { name: 'r', uuid: 'DMREMAP-r', table: '0 96 remap /dev/vda /dev/vdb' };
  const error = await t.throwsAsync(kernel.create(desired), { instanceOf: KernelError });
  t.is(error.code, 'EINVAL');
  t.false((await kernel.observe()).moduleLoaded);
  await kernel.loadModule();
  await kernel.create(desired);
  t.true((await kernel.observe()).moduleLoaded);
});

test('loadModule fails with ENOENT while the module is not installed, and runs modprobe only once loaded', async (t) => {
  const kernel = new SimulatedKernel({ moduleInstalled: false });
  const error = await t.throwsAsync(kernel.loadModule(), { instanceOf: KernelError });
  t.is(error.code, 'ENOENT');
  kernel.setModuleInstalled(true);
  await kernel.loadModule();
  await kernel.loadModule();
  t.is(
    kernel.calls.loadModule,
    2,
    'the failed attempt and the first success; the third call found it loaded',
  );
});

test('injected remapped blocks show in the observed status, and a full spare reports spare_full', async (t) => {
  const { kernel, table } = await kernelWithDisks();
  await kernel.create({ name: 'r', uuid: 'DMREMAP-r', table });
  const fresh = (await kernel.observe()).devices[0]?.remap?.status;
  t.is(fresh?.spareBlocksTotal, 100, '800 spare sectors / 8-sector blocks');
  kernel.injectRemappedBlocks('r', 3);
  const status = (await kernel.observe()).devices[0]?.remap?.status;
  t.like(status, { health: 'ok', remappedBlocks: 3, spareBlocksUsed: 3, metadataSequence: 1 });
  kernel.injectRemappedBlocks('r', 97);
  t.is((await kernel.observe()).devices[0]?.remap?.status.health, 'spare_full');
});

test('unknown status keys set by a test reach the observation in extra', async (t) => {
  const { kernel, table } = await kernelWithDisks();
  await kernel.create({ name: 'r', uuid: 'DMREMAP-r', table });
  kernel.setRemapStatus('r', { health: 'degraded', readErrors: 2, extra: { scrub: 'running' } });
  t.like((await kernel.observe()).devices[0]?.remap?.status, {
    health: 'degraded',
    readErrors: 2,
    extra: { scrub: 'running' },
  });
});

test('a garbled status marks only its device unreadable, until the faults are cleared', async (t) => {
  const { kernel, table } = await kernelWithDisks();
  const other = kernel.addBlockDevice('/dev/vdc', 8192);
  const otherSpare = kernel.addBlockDevice('/dev/vdd', 800);
  await kernel.create({ name: 'a', uuid: 'DMREMAP-a', table });
  await kernel.create({
    name: 'b',
    uuid: 'DMREMAP-b',
    table: `0 8192 remap ${other.path} ${otherSpare.path} 4 block_size 8 read_retries 3`,
  });
  kernel.injectRemappedBlocks('b', 2);
  kernel.garbleStatus('a', 'health=ok remapped=x');
  const [a, b] = (await kernel.observe()).devices;
  t.is(a?.name, 'a');
  t.regex(a?.unreadable ?? '', /status.*remapped/);
  t.is(a?.remap, undefined);
  t.true(a?.hasLiveTable);
  t.is(b?.unreadable, undefined);
  t.like(b?.remap?.status, { health: 'ok', remappedBlocks: 2 });
  t.truthy((await kernel.observe()).devices[0]?.unreadable, 'the module keeps printing it');
  kernel.faults.clear();
  t.like((await kernel.observe()).devices[0], { unreadable: undefined, remap: { status: { health: 'ok' } } });
});

test('a fault fails the given number of calls with its code, then the operation works again', async (t) => {
  const { kernel, table } = await kernelWithDisks();
  await kernel.create({ name: 'r', uuid: 'DMREMAP-r', table });
  kernel.failNext('suspend', { code: 'EBUSY', times: 2 });
  for (let attempt = 0; attempt < 2; attempt++) {
    const error = await t.throwsAsync(kernel.suspend('r'), { instanceOf: KernelError });
    t.is(error.code, 'EBUSY');
  }
  t.is(kernel.faults.armed, 0);
  await kernel.suspend('r');
  t.true((await kernel.observe()).devices[0]?.suspended);
});

test('a fault aimed at one device leaves calls about other devices alone', async (t) => {
  const { kernel, main, spare } = await kernelWithDisks();
  kernel.failNext('create', { device: 'b', code: 'EIO' });
  const results = await Promise.allSettled([
    kernel.create({ name: 'a', uuid: 'DMREMAP-a', table: `0 100 linear ${main.path} 0` }),
    kernel.create({ name: 'b', uuid: 'DMREMAP-b', table: `0 100 linear ${spare.path} 0` }),
  ]);
  t.is(results[0].status, 'fulfilled');
  t.is(results[1].status, 'rejected');
  t.deepEqual(
    (await kernel.observe()).devices.map((device) => device.name),
    ['a'],
  );
});

test('a hang settles with ECANCELED when the caller aborts', async (t) => {
  const { kernel } = await kernelWithDisks();
  kernel.failNext('observe', { hang: true });
  const controller = new AbortController();
  const pending = kernel.observe(controller.signal);
  controller.abort();
  const error = await t.throwsAsync(pending, { instanceOf: KernelError });
  t.is(error.code, 'ECANCELED');
});

test('a hang with nobody aborting settles with ETIMEDOUT after the simulator timeout', async (t) => {
  const { kernel } = await kernelWithDisks();
  kernel.failNext('observe', { hang: true });
  const error = await t.throwsAsync(kernel.observe(), { instanceOf: KernelError });
  t.is(error.code, 'ETIMEDOUT');
});

test('a crash after the load step of create leaves a device with only an inactive table', async (t) => {
  const { kernel, table } = await kernelWithDisks();
  kernel.crashAt('create', 'afterLoad', 'r');
  await t.throwsAsync(kernel.create({ name: 'r', uuid: 'DMREMAP-r', table }), { instanceOf: SimulatedCrash });
  t.like((await kernel.observe()).devices[0], {
    name: 'r',
    owned: true,
    hasLiveTable: false,
    hasInactiveTable: true,
  });
  await kernel.resume('r');
  t.like((await kernel.observe()).devices[0], { hasLiveTable: true, hasInactiveTable: false });
});

test('a crash after a resume means the kernel did it even though the caller never heard back', async (t) => {
  const { kernel, table } = await kernelWithDisks();
  await kernel.create({ name: 'r', uuid: 'DMREMAP-r', table });
  await kernel.suspend('r');
  kernel.crashAt('resume', 'after');
  await t.throwsAsync(kernel.resume('r'), { instanceOf: SimulatedCrash });
  t.false((await kernel.observe()).devices[0]?.suspended);
});

test('calls are counted per process-equivalent: concurrent creates form one batch', async (t) => {
  const { kernel, main, spare } = await kernelWithDisks();
  await Promise.all([
    kernel.create({ name: 'a', uuid: 'DMREMAP-a', table: `0 100 linear ${main.path} 0` }),
    kernel.create({ name: 'b', uuid: 'DMREMAP-b', table: `0 100 linear ${spare.path} 0` }),
  ]);
  await kernel.create({ name: 'c', uuid: 'DMREMAP-c', table: `0 100 linear ${main.path} 100` });
  t.deepEqual(kernel.batches.create, [['a', 'b'], ['c']]);
  t.is(kernel.calls.create, 2);
});

test('a device stacked on another holds it open, so the lower one cannot be removed', async (t) => {
  const { kernel, main } = await kernelWithDisks();
  await kernel.create({ name: 'lower', uuid: 'DMREMAP-lower', table: `0 100 linear ${main.path} 0` });
  await kernel.create({ name: 'upper', uuid: 'DMREMAP-upper', table: '0 100 linear /dev/mapper/lower 0' });
  const lower = (await kernel.observe()).devices.find((device) => device.name === 'lower');
  t.is(lower?.openCount, 1);
  const error = await t.throwsAsync(kernel.remove('lower'), { instanceOf: KernelError });
  t.is(error.code, 'EBUSY');
  await kernel.remove('upper');
  await kernel.remove('lower');
  t.deepEqual((await kernel.observe()).devices, []);
});

test('messages reach the installed handler only on a live remap device', async (t) => {
  const { kernel, table } = await kernelWithDisks();
  await kernel.create({ name: 'r', uuid: 'DMREMAP-r', table });
  const refused = await t.throwsAsync(kernel.message('r', ['ping']), { instanceOf: KernelError });
  t.is(refused.code, 'EINVAL');
  kernel.onMessage((name, args) => `${name}:${args.join(',')}`);
  t.is(await kernel.message('r', ['ping', '1']), 'r:ping,1');
});

test('a table with a gap, a zero length or an unknown target is refused with EINVAL', async (t) => {
  const { kernel, main } = await kernelWithDisks();
  for (const table of [`8 100 linear ${main.path} 0`, `0 0 linear ${main.path} 0`, '0 100 mirror x']) {
    const error = await t.throwsAsync(kernel.create({ name: 'x', uuid: 'DMREMAP-x', table }), {
      instanceOf: KernelError,
    });
    t.is(error.code, 'EINVAL', table);
  }
  t.deepEqual((await kernel.observe()).devices, []);
});
