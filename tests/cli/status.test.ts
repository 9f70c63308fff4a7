/** `dm-remap status` on a simulated kernel: the table, the JSON, the health conditions and the exit status. */
import test from 'ava';
import { CliWorld } from '../controller/cliHarness.js';

interface StatusJson {
  devices: {
    name: string;
    phase: string;
    conditions: {
      type: string;
      status: string;
      reason: string;
      message: string;
      lastTransitionTime: string;
    }[];
    target: Record<string, unknown> | null;
  }[];
}

async function converged(t: Parameters<typeof CliWorld.create>[0], names: string[]): Promise<CliWorld> {
  const world = await CliWorld.create(t, names);
  for (const name of names) await world.writeSpec(name);
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  return world;
}

/** Overwrite parts of a device's target status in the simulated kernel. */
async function setStatus(world: CliWorld, name: string, status: Record<string, unknown>): Promise<void> {
  const state = await world.kernel();
  const device = state.devices.find((candidate) => candidate.name === name);
  if (!device) throw new Error(`no device ${name}`);
  device.remapStatus = status;
  await world.writeKernel(state);
}

function reasons(output: StatusJson, name: string): string[] {
  const device = output.devices.find((candidate) => candidate.name === name);
  return (device?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
}

test('converged, healthy devices: one table row each, exit 0', async (t) => {
  const world = await converged(t, ['a', 'b']);
  const run = await world.cli('status', ...world.kernelArgs);
  t.is(run.status, 0, run.stderr);
  const lines = run.stdout.trimEnd().split('\n');
  t.regex(
    lines[0] ?? '',
    /^NAME +PHASE +READY +HEALTH +REMAPPED +PENDING +SPARE USED +IO ERRORS +LOST +LAST ERROR +AGE$/,
  );
  t.regex(lines[1] ?? '', /^a +active +True +ok +0 +0 +0\/1024 +0% +0\/0 +0 +- +-$/);
  t.regex(lines[2] ?? '', /^b +active +True +ok /);
  t.is(lines.length, 3);
});

test('a spare used past spareUsageWarningPercent is Degraded/SpareUsageHigh in the table and the JSON, exit 1', async (t) => {
  const world = await converged(t, ['a', 'b']);
  await setStatus(world, 'a', {
    health: 'degraded',
    remappedBlocks: 983,
    spareBlocksUsed: 983,
    writeErrors: 983,
  });
  const run = await world.cli('status', ...world.kernelArgs);
  t.is(run.status, 1);
  t.regex(run.stdout, /^a +active +True +degraded +983 +0 +983\/1024 +95% +0\/983 +0 +- +-$/m);
  t.regex(
    run.stdout,
    /^a: Degraded\/SpareUsageHigh: spare 95% used \(983 of 1024 blocks\), at or over the warning threshold of 80%$/m,
  );

  const json = await world.cli('status', ...world.kernelArgs, '--output', 'json');
  t.is(json.status, 1);
  const output = JSON.parse(json.stdout) as StatusJson;
  t.deepEqual(reasons(output, 'a'), [
    'Ready=True/Active',
    'Progressing=False/Converged',
    'Degraded=True/SpareUsageHigh',
    'Failed=False/Healthy',
  ]);
  t.deepEqual(reasons(output, 'b')[2], 'Degraded=False/Healthy');
  t.like(output.devices[0]?.target, {
    health: 'degraded',
    remappedBlocks: 983,
    spareBlocksTotal: 1024,
    lostSectors: 0,
  });
  t.is(output.devices[0]?.phase, 'active');
});

test('pending blocks are Degraded/PendingBlocks; a metadata error is Failed and not Ready', async (t) => {
  const world = await converged(t, ['a', 'b']);
  await setStatus(world, 'a', { health: 'degraded', pendingBlocks: 2, readErrors: 6 });
  await setStatus(world, 'b', { health: 'metadata_error' });
  const run = await world.cli('status', ...world.kernelArgs, '-o', 'json');
  t.is(run.status, 1);
  const output = JSON.parse(run.stdout) as StatusJson;
  t.true(reasons(output, 'a').includes('Degraded=True/PendingBlocks'));
  t.deepEqual(reasons(output, 'b'), [
    'Ready=False/MetadataError',
    'Progressing=False/Converged',
    'Degraded=False/Healthy',
    'Failed=True/MetadataError',
  ]);
});

test('a declared device not yet created is pending, not Ready; status changes nothing', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  const before = await world.devices();
  const run = await world.cli('status', ...world.kernelArgs);
  t.is(run.status, 1);
  t.regex(run.stdout, /^a +pending +False +- +- +- +- +- +- +- +-$/m);
  t.regex(run.stdout, /^a: Ready\/Pending: /m);
  t.deepEqual(await world.devices(), before);
});

test('NAME arguments pick devices; a name nothing declares or runs is said so and exits 1', async (t) => {
  const world = await converged(t, ['a', 'b']);
  const one = await world.cli('status', ...world.kernelArgs, 'b');
  t.is(one.status, 0, one.stderr);
  t.notRegex(one.stdout, /^a /m);
  t.regex(one.stdout, /^b +active/m);
  const missing = await world.cli('status', ...world.kernelArgs, 'b', 'nosuch');
  t.is(missing.status, 1);
  t.is(
    missing.stderr,
    'dm-remap: no device named nosuch (no spec declares it and the kernel has no such owned device)\n',
  );
});
