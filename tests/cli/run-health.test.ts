/**
 * `dm-remap run` evaluates the health rules on every pass: a device past its
 * spare threshold is logged Degraded once at warning level, however many
 * resync passes follow, and --on-condition-change runs once for it; a
 * restarted daemon announces only what changed while it was down.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliWorld, spawnCli } from '../controller/cliHarness.js';

interface Line {
  level: string;
  message: string;
  device?: string;
  operation?: string;
  reason?: string;
}

/** Two converged devices, a and b, and a transition command that appends each call to `calls`. */
async function healthWorld(t: ExecutionContext) {
  const world = await CliWorld.create(t, ['a', 'b']);
  await world.writeSpec('a');
  await world.writeSpec('b');
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  const calls = path.join(world.dir, 'calls');
  const hook = path.join(world.dir, 'on-change');
  await fs.writeFile(
    hook,
    `#!/bin/sh\necho "$DM_REMAP_DEVICE $DM_REMAP_CONDITION $DM_REMAP_STATUS $DM_REMAP_REASON" >> '${calls}'\n`,
    { mode: 0o755 },
  );
  /** The device's spare goes past its warning threshold (90 % used). */
  const degrade = async (name: string) => {
    const state = await world.kernel();
    const device = state.devices.find((candidate) => candidate.name === name);
    if (!device) throw new Error(`no device ${name}`);
    device.remapStatus = { health: 'degraded', remappedBlocks: 900, spareBlocksUsed: 900 };
    await world.writeKernel(state);
  };
  return { world, hook, degrade, calls: () => fs.readFile(calls, 'utf8') };
}

/** Runs the daemon until it has made `passes` resync passes, stops it; its JSON log lines. */
async function runDaemonFor(
  t: ExecutionContext,
  world: CliWorld,
  hook: string,
  passes: number,
): Promise<Line[]> {
  const child = spawnCli(t, [
    'run',
    ...world.kernelArgs,
    '--resync-interval',
    '200ms',
    // The resync passes it counts are logged at debug.
    '--log-level',
    'debug',
    '--on-condition-change',
    hook,
  ]);
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const lines = () =>
    stdout
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as Line);
  const resyncs = () => lines().filter((line) => line.message === 'reconciling all devices (resync)').length;
  for (let waited = 0; resyncs() < passes && waited < 60_000; waited += 100) await sleep(100);
  t.true(resyncs() >= passes, stdout);
  child.kill('SIGTERM');
  t.is(await exited, 0);
  return lines();
}

const healthLines = (lines: Line[]) => lines.filter((line) => line.operation === 'health');

test('a Degraded device is logged once and the transition command runs once, over many passes', async (t) => {
  const { world, hook, degrade, calls } = await healthWorld(t);
  await degrade('a');
  const health = healthLines(await runDaemonFor(t, world, hook, 4));
  t.is(health.length, 1, JSON.stringify(health));
  t.like(health[0], { level: 'warn', device: 'a', reason: 'SpareUsageHigh' });
  t.is(await calls(), 'a Degraded True SpareUsageHigh\n');
});

test('a restarted daemon announces only what changed while it was down', async (t) => {
  const { world, hook, degrade, calls } = await healthWorld(t);
  await degrade('a');
  const first = healthLines(await runDaemonFor(t, world, hook, 2));
  t.deepEqual(
    first.map((line) => line.device),
    ['a'],
  );
  // While the daemon is down (an upgrade, a restart), b degrades too.
  await degrade('b');
  const second = healthLines(await runDaemonFor(t, world, hook, 2));
  t.deepEqual(
    second.map((line) => [line.device, line.reason]),
    [['b', 'SpareUsageHigh']],
    'a was Degraded before the restart and still is: not news',
  );
  t.is(await calls(), 'a Degraded True SpareUsageHigh\nb Degraded True SpareUsageHigh\n');
});
