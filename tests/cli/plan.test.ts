/** `dm-remap plan` end to end on a simulated kernel: exit statuses, text and JSON output, and that it changes nothing. */
import test from 'ava';
import fs from 'node:fs/promises';
import { CliWorld, MAIN_SECTORS } from '../controller/cliHarness.js';

test('pending changes: exit 2, each operation with its reason and table', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a', ['readRetries: 5']);
  const before = await world.devices();
  const run = await world.cli('plan', ...world.kernelArgs);
  t.is(run.status, 2, run.stderr);
  t.is(
    run.stdout,
    [
      'a:',
      '  + loadModule     the dm-remap module is not loaded',
      '  + create         declared but not present in the kernel',
      `                   table: 0 ${MAIN_SECTORS} remap /dev/disk/by-id/a-main /dev/disk/by-id/a-spare 6 block_size 8 read_retries 5 main_id disk-a-main`,
      '',
      'Plan: 1 create, 1 loadModule.',
      '',
    ].join('\n'),
  );
  t.deepEqual(await world.devices(), before, 'plan changed the kernel');
});

test('--output json carries the same plan for scripts', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  const run = await world.cli('plan', ...world.kernelArgs, '--output', 'json');
  t.is(run.status, 2);
  const output = JSON.parse(run.stdout) as {
    plan: { hasChanges: boolean; devices: { name: string; operations: { kind: string }[] }[] };
    diagnostics: unknown[];
  };
  t.true(output.plan.hasChanges);
  t.deepEqual(
    output.plan.devices.map((device) => [device.name, device.operations.map((op) => op.kind)]),
    [['a', ['loadModule', 'create']]],
  );
  t.deepEqual(output.diagnostics, []);
});

test('nothing to do after apply: exit 0', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  const run = await world.cli('plan', ...world.kernelArgs);
  t.is(run.status, 0, run.stdout + run.stderr);
  t.is(run.stdout, 'No changes. The kernel matches the specs.\n');
});

test('a refused change: exit 1 with the reason', async (t) => {
  const world = await CliWorld.create(t, ['a', 'b']);
  await world.writeSpec('a');
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  const state = await world.kernel();
  const a = state.devices.find((device) => device.name === 'a');
  if (!a) return t.fail('apply did not create a');
  a.remappedBlocks = 2;
  await world.writeKernel(state);
  await world.writeSpec('a', ['spareDevice: /dev/disk/by-id/b-spare']);
  const run = await world.cli('plan', ...world.kernelArgs);
  t.is(run.status, 1);
  t.regex(run.stdout, /! refuse +changing spareDevice would strand 2 remapped and 0 pending blocks/);
});

test('a config dir others can write: exit 77 and no plan, unless explicitly allowed', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  await fs.chmod(world.configDir, 0o777);
  const refused = await world.cli('plan', ...world.kernelArgs);
  t.is(refused.status, 77);
  t.is(refused.stdout, '');
  t.regex(refused.stderr, /not planning anything/);
  const allowed = await world.cli('plan', ...world.kernelArgs, '--allow-insecure-permissions');
  t.is(allowed.status, 2, allowed.stderr);
});

test('an invalid spec file: its device is held and plan exits 1', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  await world.cli('apply', ...world.kernelArgs);
  await fs.writeFile(
    `${world.configDir}/a.yaml`,
    'apiVersion: dm-remap/v1alpha1\nkind: RemapDevice\nmetadata: {name: a\n',
  );
  const run = await world.cli('plan', ...world.kernelArgs);
  t.is(run.status, 1);
  t.regex(run.stdout, /= hold +spec file .*a\.yaml is invalid/);
  t.regex(run.stderr, /a\.yaml:\d+:\d+: error: /);
});

test('a main without a stable identity: the plan warns that the spare will not be tied to it', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  const state = await world.kernel();
  for (const device of state.blockDevices) delete device.identity;
  await world.writeKernel(state);
  await world.writeSpec('a');
  const run = await world.cli('plan', ...world.kernelArgs);
  t.is(run.status, 2, run.stderr);
  t.regex(
    run.stdout,
    /read_retries 3\n {19}warning: the main device \/dev\/disk\/by-id\/a-main \(8:0\) has no stable identity in sysfs/,
  );
});

test('a device waiting for a missing disk: exit 1, since apply would not converge it', async (t) => {
  const world = await CliWorld.create(t, []);
  await world.writeSpec('ghost');
  const run = await world.cli('plan', ...world.kernelArgs);
  t.is(run.status, 1, run.stdout + run.stderr);
  t.regex(run.stdout, /^ {2}! wait +/m);
});

test('a device that cannot converge outweighs changes pending elsewhere: exit 1, not 2', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  await world.writeSpec('ghost');
  const run = await world.cli('plan', ...world.kernelArgs);
  t.is(run.status, 1, run.stdout + run.stderr);
  t.regex(run.stdout, /^ {2}\+ create +/m);
  t.regex(run.stdout, /^ {2}! wait +/m);
});

test('a removal blocked by an open device: exit 1', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  const state = await world.kernel();
  const a = state.devices.find((device) => device.name === 'a');
  if (!a) return t.fail('apply did not create a');
  a.openCount = 1;
  await world.writeKernel(state);
  await world.writeSpec('a', ['state: absent']);
  const run = await world.cli('plan', ...world.kernelArgs);
  t.is(run.status, 1, run.stdout + run.stderr);
  t.regex(run.stdout, /^ {2}! blocked +/m);
});

test('a device waiting for its disks: exit 1, unless its spec says nofail (apply would skip it)', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  await world.writeSpec('optional', ['nofail: true', 'deviceTimeout: 1s']);
  t.is((await world.cli('apply', ...world.kernelArgs, '--timeout', '5m')).status, 0);
  const skipped = await world.cli('plan', ...world.kernelArgs);
  t.is(skipped.status, 0, skipped.stdout + skipped.stderr);
  t.regex(skipped.stdout, /! wait +waiting for main device .*optional-main/);

  await world.writeSpec('ghost');
  const waiting = await world.cli('plan', ...world.kernelArgs);
  t.is(waiting.status, 1, waiting.stdout + waiting.stderr);
});
