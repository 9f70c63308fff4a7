/** The admin verbs on a simulated kernel: clear-stats, remap-block, version. */
import test from 'ava';
import { CliWorld } from '../controller/cliHarness.js';
import packageJson from '../../package.json' with { type: 'json' };
import { remapBlockCommand } from '../../reconciler/cli/actions/remapBlock.js';

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
  // 65,536 sectors of 4 KiB blocks: blocks 0 to 8191.
  const beyond = await world.cli('remap-block', 'a', '8000', '200', '--kernel', `sim:${world.simFile}`);
  t.is(beyond.status, 64);
  t.regex(beyond.stderr, /blocks 8000 to 8199: the last block of a is 8191/);
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

/** A converged device `a` whose spare has room for `slots` blocks of 4 KiB. */
async function withSpare(t: Parameters<typeof CliWorld.create>[0], slots: number): Promise<CliWorld> {
  const world = await CliWorld.create(t, ['a']);
  const state = await world.kernel();
  const spare = state.blockDevices.find((device) => device.path.endsWith('a-spare'));
  if (spare) spare.sizeSectors = slots * 8;
  await world.writeKernel(state);
  await world.writeSpec('a');
  t.is((await world.cli('apply', ...world.kernelArgs)).status, 0);
  return world;
}

test('remap-block moves a long range in chunks, with a progress line per chunk on --progress', async (t) => {
  const world = await withSpare(t, 20_000);
  const run = await world.cli(
    'remap-block',
    'a',
    '0',
    '6000',
    '--progress',
    '--kernel',
    `sim:${world.simFile}`,
  );
  t.is(run.status, 0, run.stderr);
  t.is(
    run.stderr,
    ['remap-block a: 4096 of 6000 blocks (68%)', 'remap-block a: 6000 of 6000 blocks (100%)', ''].join('\n'),
  );
  t.is(run.stdout, 'a: blocks 0 to 5999 moved to the spare; remapped 6000, spare 6000/20000 (30%)\n');
  const quiet = await world.cli('remap-block', 'a', '6000', '2000', '--kernel', `sim:${world.simFile}`);
  t.is(quiet.stderr, '', 'no progress unless asked for or on a terminal');
});

test('remap-block on a spare that fills up says how many blocks were moved, and exits 1', async (t) => {
  const world = await withSpare(t, 1000);
  const run = await world.cli('remap-block', 'a', '100', '6000', '--kernel', `sim:${world.simFile}`);
  t.is(run.status, 1);
  t.is(
    run.stdout,
    'a: the spare is full: 1000 of blocks 100 to 6099 were moved to it; remapped 1000, spare 1000/1000 (100%)\n',
  );
  t.regex(run.stderr, /^dm-remap: remap-block a: .*\(ENOSPC\)\n$/);
});

test('remap-block stops between chunks on an interrupt, saying what was moved, and exits 75', async (t) => {
  const world = await withSpare(t, 20_000);
  const interrupt = new AbortController();
  let stdout = '';
  const io = {
    stdout: (text: string) => (stdout += text),
    // The first progress line: the first chunk is done, the second not yet sent.
    stderr: () => interrupt.abort(),
    env: {},
  };
  const options = { kernel: `sim:${world.simFile}`, progress: true };
  const error = await t.throwsAsync(remapBlockCommand('a', '0', '6000', options, io, interrupt.signal));
  t.like(error, { code: 75 });
  t.is(
    stdout,
    'a: interrupted: blocks 0 to 4095 moved to the spare, blocks 4096 to 5999 not; remapped 4096, spare 4096/20000 (20%)\n',
  );
  t.is((await world.device('a'))?.remappedBlocks, 4096);
});

test('an interrupt that also stops dmsetup mid-message is reported as an interrupt, not a kernel failure', async (t) => {
  const world = await withSpare(t, 20_000);
  // The terminal's Ctrl-C reaches dmsetup too: the first message fails (EIO), and by then the interrupt is seen.
  const state = await world.kernel();
  state.faults = [{ operation: 'message', code: 'EIO' }];
  await world.writeKernel(state);
  let reads = 0;
  const interrupt = {
    get aborted() {
      return reads++ > 0;
    },
  } as unknown as AbortSignal;
  let stdout = '';
  const io = { stdout: (text: string) => (stdout += text), stderr: () => undefined, env: {} };
  const options = { kernel: `sim:${world.simFile}` };
  const error = await t.throwsAsync(remapBlockCommand('a', '0', '6000', options, io, interrupt));
  t.like(error, { code: 75 });
  t.is(
    stdout,
    'a: interrupted: blocks 0 to 4095 may have been moved (the interrupt stopped dmsetup mid-message), blocks 4096 to 5999 not; remapped 0, spare 0/20000 (0%)\n',
  );
});
