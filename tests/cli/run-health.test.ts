/**
 * `dm-remap run` evaluates the health rules on every pass: a device past its
 * spare threshold is logged Degraded once at warning level, however many
 * resync passes follow, and --on-condition-change runs once for it.
 */
import test from 'ava';
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

test('a Degraded device is logged once and the transition command runs once, over many passes', async (t) => {
  const world = await CliWorld.create(t, ['a', 'b']);
  await world.writeSpec('a');
  await world.writeSpec('b');
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  const state = await world.kernel();
  const a = state.devices.find((device) => device.name === 'a');
  if (!a) return t.fail('no device a');
  a.remapStatus = { health: 'degraded', remappedBlocks: 900, spareBlocksUsed: 900 };
  await world.writeKernel(state);
  const calls = path.join(world.dir, 'calls');
  const hook = path.join(world.dir, 'on-change');
  await fs.writeFile(
    hook,
    `#!/bin/sh\necho "$DM_REMAP_DEVICE $DM_REMAP_CONDITION $DM_REMAP_STATUS $DM_REMAP_REASON" >> '${calls}'\n`,
    {
      mode: 0o755,
    },
  );

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
  for (let waited = 0; resyncs() < 4 && waited < 60_000; waited += 100) await sleep(100);
  t.true(resyncs() >= 4, stdout);
  child.kill('SIGTERM');
  t.is(await exited, 0);

  const health = lines().filter((line) => line.operation === 'health');
  t.is(health.length, 1, JSON.stringify(health));
  t.like(health[0], { level: 'warn', device: 'a', reason: 'SpareUsageHigh' });
  t.is(await fs.readFile(calls, 'utf8'), 'a Degraded True SpareUsageHigh\n');
});
