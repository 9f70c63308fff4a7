/**
 * A host that cannot run dm-remap (no dmsetup, no device-mapper, not root, no
 * module) or a config that cannot be read is told in one line on stderr with
 * its own exit status, never as "internal error" with a stack trace. The real
 * entry point runs against the real dmsetup adapter, with PATH pointing at a
 * directory that has no dmsetup or a fake one printing what dmsetup prints.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CliWorld } from '../controller/cliHarness.js';

const UNAVAILABLE = 69;
const IO_ERROR = 74;
const NO_PERMISSION = 77;

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** A directory to use as PATH: empty, or holding a `dmsetup` that prints `stderr` and exits 1. */
async function fakePath(t: ExecutionContext, dmsetupStderr?: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dm-remap-path-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  if (dmsetupStderr !== undefined) {
    // printf is a shell builtin: nothing else is on this PATH.
    const lines = dmsetupStderr.split('\n').map((line) => `'${line}'`);
    const script = `#!/bin/sh\nprintf '%s\\n' ${lines.join(' ')} >&2\nexit 1\n`;
    await fs.writeFile(path.join(dir, 'dmsetup'), script, { mode: 0o755 });
  }
  return dir;
}

/** The dm-remap entry point as an operator runs it, with the real dmsetup adapter and PATH=`pathDir`. */
async function dmRemap(t: ExecutionContext, pathDir: string, args: string[]): Promise<Run> {
  const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dm-remap-state-'));
  t.teardown(() => fs.rm(stateDir, { recursive: true, force: true }));
  const entry = ['--import', 'tsx/esm', 'reconciler/cli/main.ts'];
  return promisify(execFile)(process.execPath, [...entry, ...args], {
    env: { PATH: pathDir, DM_REMAP_STATE_DIR: stateDir },
    // A daemon that does not stop on its own must not outlive the test.
    timeout: 30_000,
    killSignal: 'SIGKILL',
  }).then(
    ({ stdout, stderr }) => ({ status: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      status: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );
}

const NO_DEVICE_MAPPER = [
  '/dev/mapper/control: open failed: No such device',
  'Failure to communicate with kernel device-mapper driver.',
  'Check that device-mapper is available in the kernel.',
  'Incompatible libdevmapper 1.02.185 (2022-05-18) and kernel driver (unknown version).',
  'Command failed.',
].join('\n');

const NOT_ROOT = [
  '/dev/mapper/control: open failed: Permission denied',
  'Failure to communicate with kernel device-mapper driver.',
  'Command failed.',
].join('\n');

for (const verb of ['plan', 'apply', 'run']) {
  test(`${verb} without dmsetup: one line saying so, exit 69`, async (t) => {
    const run = await dmRemap(t, await fakePath(t), [verb, '--config-dir', 'examples']);
    t.is(run.status, UNAVAILABLE, run.stderr);
    t.is(
      run.stderr,
      'dm-remap: cannot observe device-mapper: dmsetup not found (install the dmsetup package)\n',
    );
  });
}

test('plan on a kernel without device-mapper: one line, exit 69, no stack trace', async (t) => {
  const run = await dmRemap(t, await fakePath(t, NO_DEVICE_MAPPER), ['plan', '--config-dir', 'examples']);
  t.is(run.status, UNAVAILABLE, run.stderr);
  t.is(
    run.stderr,
    'dm-remap: cannot observe device-mapper: /dev/mapper/control: open failed: No such device ' +
      '(this kernel has no device-mapper: modprobe dm_mod)\n',
  );
});

test('apply as a user device-mapper refuses: one line, exit 77', async (t) => {
  const run = await dmRemap(t, await fakePath(t, NOT_ROOT), ['apply', '--config-dir', 'examples']);
  t.is(run.status, NO_PERMISSION, run.stderr);
  t.is(
    run.stderr,
    'dm-remap: cannot observe device-mapper: /dev/mapper/control: open failed: Permission denied ' +
      '(run as root)\n',
  );
});

test('the dm-remap module not installed: apply says so in one line and exits 69', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeKernel({ ...(await world.kernel()), moduleInstalled: false });
  await world.writeSpec('a');
  const run = await world.cli('apply', ...world.kernelArgs, '--retries', '0');
  t.is(run.status, UNAVAILABLE, run.stderr);
  t.regex(run.stdout, /^FAIL a: failed\.backingOff — loadingModule: .*not found \(ENOENT\)$/m);
  t.regex(
    run.stderr,
    /^dm-remap: cannot load the dm-remap module: module dm-remap not found \(build and install it: kmod\/README\.md\)$/m,
  );
});

test('device-mapper refusing the first observation (sim): plan exits 77 with one line', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  await world.writeKernel({
    ...(await world.kernel()),
    faults: [{ operation: 'observe', code: 'EPERM', message: `dmsetup info: ${NOT_ROOT}` }],
  });
  const run = await world.cli('plan', ...world.kernelArgs);
  t.is(run.status, NO_PERMISSION, run.stderr);
  t.is(run.stdout, '');
  t.is(
    run.stderr,
    'dm-remap: cannot observe device-mapper: /dev/mapper/control: open failed: Permission denied (run as root)\n',
  );
});

test('a missing config dir: plan and apply exit 74 and act on nothing', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await fs.rm(world.configDir, { recursive: true });
  const before = await world.devices();
  for (const verb of ['plan', 'apply']) {
    const run = await world.cli(verb, ...world.kernelArgs);
    t.is(run.status, IO_ERROR, `${verb}: ${run.stderr}`);
    t.regex(run.stderr, /no such file or directory/);
  }
  t.deepEqual(await world.devices(), before);
});

test('a config dir others can write: plan and apply exit 77 and act on nothing', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  await fs.chmod(world.configDir, 0o777);
  const before = await world.devices();
  for (const verb of ['plan', 'apply']) {
    const run = await world.cli(verb, ...world.kernelArgs);
    t.is(run.status, NO_PERMISSION, `${verb}: ${run.stderr}`);
    t.regex(run.stderr, /writable by group and others/);
  }
  t.deepEqual(await world.devices(), before);
});
