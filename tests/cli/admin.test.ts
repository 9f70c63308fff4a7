/** The admin verbs on a simulated kernel: clear-stats, remap-block, version. */
import test from 'ava';
import { CliWorld } from '../controller/cliHarness.js';
import packageJson from '../../package.json' with { type: 'json' };

async function converged(t: Parameters<typeof CliWorld.create>[0]): Promise<CliWorld> {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  return world;
}

test('clear-stats zeroes the error counters and clears a metadata error', async (t) => {
  const world = await converged(t);
  const state = await world.kernel();
  const a = state.devices.find((device) => device.name === 'a');
  if (!a) return t.fail('no device a');
  a.remapStatus = { health: 'metadata_error', readErrors: 3, writeErrors: 4 };
  await world.writeKernel(state);
  const run = await world.cli('clear-stats', 'a', '--kernel', `sim:${world.simFile}`);
  t.is(run.status, 0, run.stderr);
  t.is(
    run.stdout,
    'a: statistics cleared (read_errors, write_errors, other_errors, remap_failures, lost_sectors; a metadata_error or failing health)\n',
  );
  const status = await world.cli('status', ...world.kernelArgs, '-o', 'json');
  t.is(status.status, 0, status.stdout);
  t.like(JSON.parse(status.stdout), {
    devices: [{ target: { health: 'ok', readErrors: 0, writeErrors: 0 } }],
  });
});

test('remap-block moves blocks to the spare and says what the spare holds now', async (t) => {
  const world = await converged(t);
  const run = await world.cli('remap-block', 'a', '100', '8', '--kernel', `sim:${world.simFile}`);
  t.is(run.status, 0, run.stderr);
  t.is(run.stdout, 'a: blocks 100 to 107 moved to the spare; remapped 8, spare 8/1024 (0%)\n');
  t.is((await world.device('a'))?.remappedBlocks, 8);
});

test('an admin verb on a device dm-remap does not own, or a bad block number, is refused', async (t) => {
  const world = await converged(t);
  const foreign = await world.cli('clear-stats', 'vg-root', '--kernel', `sim:${world.simFile}`);
  t.is(foreign.status, 1);
  t.regex(foreign.stderr, /^dm-remap: clear-stats vg-root: /);
  const missing = await world.cli('remap-block', 'nosuch', '1', '--kernel', `sim:${world.simFile}`);
  t.is(missing.status, 1);
  t.is((await world.cli('remap-block', 'a', 'x', '--kernel', `sim:${world.simFile}`)).status, 64);
  t.is((await world.cli('remap-block', 'a', '1', '0', '--kernel', `sim:${world.simFile}`)).status, 64);
});

test('version names the CLI and whether the module is loaded', async (t) => {
  const world = await converged(t);
  const run = await world.cli('version', '--kernel', `sim:${world.simFile}`);
  t.is(run.status, 0, run.stderr);
  t.regex(
    run.stdout,
    new RegExp(`^dm-remap ${packageJson.version.replaceAll('.', '\\.')}\nmodule dm-remap: loaded`),
  );
});
