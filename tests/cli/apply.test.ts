/** `dm-remap apply` end to end on a simulated kernel: convergence, per-device results, exit statuses, JSON. */
import test from 'ava';
import { CliWorld, MAIN_SECTORS } from '../controller/cliHarness.js';

test('apply converges every declared device and leaves foreign devices alone', async (t) => {
  const world = await CliWorld.create(t, ['a', 'b']);
  await world.writeSpec('a');
  await world.writeSpec('b', ['readRetries: 6', 'blockSize: 65536']);
  const run = await world.cli('apply', ...world.kernelArgs);
  t.is(run.status, 0, run.stderr);
  t.is(run.stdout, 'ok   a: active\nok   b: active\n2 of 2 devices converged.\n');
  t.like(await world.device('a'), {
    uuid: 'DMREMAP-a',
    table: `0 ${MAIN_SECTORS} remap 8:0 8:16 4 block_size 8 read_retries 3`,
    suspended: false,
  });
  t.like(await world.device('b'), {
    table: `0 ${MAIN_SECTORS} remap 8:32 8:48 4 block_size 128 read_retries 6`,
  });
  t.like(await world.device('vg-root'), { uuid: 'LVM-root', table: '0 2048 zero' });
});

test('progress is logged per device, with the device and the operation on every line', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  const run = await world.cli('apply', ...world.kernelArgs);
  const lines = run.stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { device?: string; operation?: string; message: string });
  t.true(lines.length >= 3);
  t.true(
    lines.every((line) => line.device === 'a' && typeof line.operation === 'string'),
    run.stderr,
  );
  t.deepEqual(
    lines.map((line) => line.operation),
    ['loadModule', 'create', 'none'],
  );
});

test('a device that cannot converge fails the apply; the other still converges', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  await world.writeSpec('ghost');
  const run = await world.cli('apply', ...world.kernelArgs, '--output', 'json');
  t.is(run.status, 1);
  const output = JSON.parse(run.stdout) as { devices: { name: string; state: string; converged: boolean }[] };
  t.deepEqual(
    output.devices.map((device) => [device.name, device.state, device.converged]),
    [
      ['a', 'active', true],
      ['ghost', 'waitingForDevices', false],
    ],
  );
});

test('a refused change fails the apply and leaves the device running as it was', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  await world.cli('apply', ...world.kernelArgs);
  await world.writeSpec('a', ['mainDevice: /dev/disk/by-id/other-main']);
  const state = await world.kernel();
  state.blockDevices.push({
    path: '/dev/disk/by-id/other-main',
    sizeSectors: MAIN_SECTORS,
    major: 9,
    minor: 0,
  });
  await world.writeKernel(state);
  const before = await world.devices();
  const run = await world.cli('apply', ...world.kernelArgs);
  t.is(run.status, 1);
  t.regex(run.stdout, /^FAIL a: failed\.refused — the spec changes the main device \(8:0 → 9:0\)/m);
  t.deepEqual(await world.devices(), before);
});

test('a kernel call that fails once is retried and the apply succeeds', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  await world.writeKernel({
    ...(await world.kernel()),
    faults: [{ operation: 'create', code: 'EIO', times: 1 }],
  });
  const run = await world.cli('apply', ...world.kernelArgs, '--retries', '1');
  t.is(run.status, 0, run.stdout);
  t.regex(run.stderr, /"message":"creating failed \(EIO\): create a: injected EIO; retry in \d+ ms"/);
  t.like(await world.device('a'), { uuid: 'DMREMAP-a', suspended: false });
});

test('a kernel call that keeps failing is given up on after --retries and fails the apply', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  await world.writeKernel({
    ...(await world.kernel()),
    faults: [{ operation: 'create', code: 'EIO', times: 5 }],
  });
  const run = await world.cli('apply', ...world.kernelArgs, '--retries', '2');
  t.is(run.status, 1);
  t.regex(run.stdout, /^FAIL a: failed\.backingOff — creating: create a: injected EIO \(EIO\)$/m);
  t.is((run.stderr.match(/creating failed \(EIO\)/g) ?? []).length, 3, 'one try and two retries');
  t.is(await world.device('a'), undefined);
});

test('bad flags are usage errors', async (t) => {
  const world = await CliWorld.create(t, []);
  t.is((await world.cli('apply', ...world.kernelArgs, '--timeout', 'soon')).status, 2);
  t.is((await world.cli('apply', ...world.kernelArgs, '--retries', '-1')).status, 2);
  t.is((await world.cli('apply', '--kernel', 'magic')).status, 2);
});
