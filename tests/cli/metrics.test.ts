/** `dm-remap metrics`: the per-device series for hosts without the daemon, printed or written as a textfile. */
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CliWorld } from '../controller/cliHarness.js';

async function degradedWorld(t: Parameters<typeof CliWorld.create>[0]): Promise<CliWorld> {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  const state = await world.kernel();
  const a = state.devices.find((device) => device.name === 'a');
  if (a) a.remapStatus = { health: 'degraded', pendingBlocks: 1, writeErrors: 2 };
  await world.writeKernel(state);
  return world;
}

test('metrics prints the per-device series on stdout', async (t) => {
  const world = await degradedWorld(t);
  const run = await world.cli('metrics', ...world.kernelArgs);
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /^dm_remap_pending_blocks\{device="a"\} 1$/m);
  t.regex(run.stdout, /^dm_remap_io_errors_total\{device="a",direction="write"\} 2$/m);
  t.regex(
    run.stdout,
    /^dm_remap_device_condition_reason\{device="a",type="Degraded",reason="PendingBlocks"\} 1$/m,
  );
  t.regex(run.stdout, /^dm_remap_device_phase\{device="a",phase="active"\} 1$/m);
});

test('--textfile writes the file atomically (no temporary left), for the node_exporter textfile collector', async (t) => {
  const world = await degradedWorld(t);
  const file = path.join(world.dir, 'collector', 'dm_remap.prom');
  await fs.mkdir(path.dirname(file));
  await fs.writeFile(file, 'old\n');
  const run = await world.cli('metrics', ...world.kernelArgs, '--textfile', file);
  t.is(run.status, 0, run.stderr);
  t.is(run.stdout, '');
  const text = await fs.readFile(file, 'utf8');
  t.regex(text, /^dm_remap_pending_blocks\{device="a"\} 1$/m);
  t.deepEqual(await fs.readdir(path.dirname(file)), ['dm_remap.prom']);
  t.is(((await fs.stat(file)).mode & 0o777).toString(8), '644');
});

test('--textfile into a directory that does not exist fails with 74 and names it', async (t) => {
  const world = await degradedWorld(t);
  const file = path.join(world.dir, 'nosuch', 'dm_remap.prom');
  const run = await world.cli('metrics', ...world.kernelArgs, '--textfile', file);
  t.is(run.status, 74);
  t.regex(run.stderr, /^dm-remap: cannot write .*nosuch\/dm_remap\.prom: ENOENT/m);
});
