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
    table: `0 ${MAIN_SECTORS} remap 8:0 8:16 6 block_size 8 read_retries 3 main_id disk-a-main`,
    suspended: false,
  });
  t.like(await world.device('b'), {
    table: `0 ${MAIN_SECTORS} remap 8:32 8:48 6 block_size 128 read_retries 6 main_id disk-b-main`,
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
  // apply waits for a missing disk until its deviceTimeout (at boot, disks appear late); --timeout is
  // generous so that a slow, loaded host only makes the test slower.
  await world.writeSpec('ghost', ['deviceTimeout: 1s']);
  const run = await world.cli('apply', ...world.kernelArgs, '--timeout', '5m', '--output', 'json');
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

test('bad flags are usage errors (64)', async (t) => {
  const world = await CliWorld.create(t, []);
  t.is((await world.cli('apply', ...world.kernelArgs, '--timeout', 'soon')).status, 64);
  t.is((await world.cli('apply', ...world.kernelArgs, '--retries', '-1')).status, 64);
  t.is((await world.cli('apply', '--kernel', 'magic')).status, 64);
});

test('after two disks trade names, apply refuses the spare of one for the other and leaves it untouched', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  const state = await world.kernel();
  const [sda] = state.blockDevices;
  if (!sda) return t.fail('no main disk');
  const sdb = { path: '/dev/sdb', sizeSectors: MAIN_SECTORS, major: 8, minor: 64, identity: 'disk-other' };
  state.blockDevices.push(sdb, { ...sda, path: '/run/disks/main' });
  await world.writeKernel(state);
  await world.writeSpec('a', ['mainDevice: /run/disks/main']);
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  t.regex((await world.device('a'))?.table ?? '', / main_id disk-a-main$/);
  await world.writeSpec('a', ['mainDevice: /run/disks/main', 'state: absent']);
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);

  // The next boot: /run/disks/main now names the other disk of the same size.
  const rebooted = await world.kernel();
  const link = rebooted.blockDevices.find((device) => device.path === '/run/disks/main');
  if (!link) return t.fail('no link');
  Object.assign(link, { major: sdb.major, minor: sdb.minor, identity: sdb.identity });
  await world.writeKernel(rebooted);
  const spareBefore = rebooted.blockDevices.find((device) => device.path.endsWith('a-spare'))?.header;
  t.truthy(spareBefore, 'the spare was formatted');
  await world.writeSpec('a', ['mainDevice: /run/disks/main']);
  const run = await world.cli('apply', ...world.kernelArgs);
  t.is(run.status, 1);
  t.regex(
    run.stdout,
    /^FAIL a: failed\.refused — the spare \/dev\/disk\/by-id\/a-spare \(8:16\) belongs to the main disk "disk-a-main", but the main device \/run\/disks\/main \(8:64\) is "disk-other"/m,
  );
  t.is(await world.device('a'), undefined);
  const after = await world.kernel();
  t.is(after.blockDevices.find((device) => device.path.endsWith('a-spare'))?.header, spareBefore);
});

test('--timeout passing while an operation is still running: exit 75 (unfinished), not 1', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  await world.writeKernel({ ...(await world.kernel()), faults: [{ operation: 'create', hang: true }] });
  const run = await world.cli('apply', ...world.kernelArgs, '--timeout', '300ms');
  t.is(run.status, 75, run.stdout + run.stderr);
  t.regex(run.stderr, /error: gave up waiting after 300ms/);
});

test('--timeout passing with a device waiting for its disk: exit 1, a retry would not help', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('ghost');
  // Long enough for the device to be seen waiting on a loaded host; its deviceTimeout (90s) is longer.
  const run = await world.cli('apply', ...world.kernelArgs, '--timeout', '5s');
  t.is(run.status, 1, run.stdout + run.stderr);
  t.regex(run.stdout, /^FAIL ghost: waitingForDevices/m);
});

test("a device's own deviceTimeout ends its wait; nofail makes it a skip, not a failure", async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  await world.writeSpec('optional', ['deviceTimeout: 1s', 'nofail: true']);
  const run = await world.cli('apply', ...world.kernelArgs, '--timeout', '5m');
  t.is(run.status, 0, run.stdout + run.stderr);
  t.regex(run.stdout, /^ok {3}a: active$/m);
  t.regex(
    run.stdout,
    /^skip optional: waitingForDevices — .*gave up after its deviceTimeout of 1s, nofail\)$/m,
  );
  t.regex(run.stdout, /^1 of 2 devices converged, 1 skipped \(nofail\)\.$/m);

  await world.writeSpec('ghost', ['deviceTimeout: 1s']);
  const failing = await world.cli('apply', ...world.kernelArgs, '--timeout', '5m', '--output', 'json');
  t.is(failing.status, 1, failing.stdout + failing.stderr);
  const output = JSON.parse(failing.stdout) as {
    timedOut: boolean;
    gaveUpWaiting: { name: string; nofail: boolean; deviceTimeoutMs: number }[];
  };
  t.false(output.timedOut);
  t.deepEqual(output.gaveUpWaiting, [
    { name: 'ghost', nofail: false, deviceTimeoutMs: 1_000 },
    { name: 'optional', nofail: true, deviceTimeoutMs: 1_000 },
  ]);
});

test('a device that settles back to active after an action says so at info', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  await world.writeSpec('a', ['readRetries: 5']);
  const run = await world.cli('apply', ...world.kernelArgs);
  t.is(run.status, 0, run.stderr);
  const lines = run.stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { level: string; state?: string });
  const states = lines.filter((line) => line.level === 'info').map((line) => line.state);
  t.deepEqual(states.slice(-2), ['updating.resuming', 'active'], run.stderr);
});
