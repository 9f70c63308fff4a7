/**
 * The guest runner's own failure handling (scripts/vm/guest.sh): qemu exits 0
 * even when the guest panics, so each way a guest run can go wrong must turn
 * into a failing exit status. The tests that boot a real kernel under qemu
 * (~10 s each) only run under `npm run test:guest`, which sets
 * DM_REMAP_GUEST_TESTS=1; a plain `npm test` skips them. The few that boot
 * nothing (argument checks, the test runner's item list) always run.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const GUEST_RUNNER = 'scripts/vm/guest.sh';
/** The runner's documented statuses for failures of the rig rather than the command. */
const EXIT_TIMEOUT = 124;
const EXIT_RIG_FAILURE = 125;

// Serial: each guest is one busy CPU under TCG, and a starved guest is slower
// to boot than the timeout test allows for.
const guestTest = process.env.DM_REMAP_GUEST_TESTS === '1' ? test.serial : test.skip;

interface GuestRun {
  exitCode: number | null;
  /** stdout and stderr, interleaved as they came. */
  output: string;
  stdout: string;
}

/** Runs a bash script of the checkout (with ENV as its whole environment) and collects all it prints. */
function runBash(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<GuestRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    const stdout: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (exitCode) => {
      resolve({
        exitCode,
        output: Buffer.concat(chunks).toString('utf8'),
        stdout: Buffer.concat(stdout).toString('utf8'),
      });
    });
  });
}

/** Runs the guest runner (without dm-remap.ko: these tests are about the rig). */
function runGuest(args: readonly string[]): Promise<GuestRun> {
  return runBash(GUEST_RUNNER, ['--no-module', '--mem', '512', ...args]);
}

guestTest('a command that succeeds in the guest makes the run succeed', async (t) => {
  const run = await runGuest(['sh', '-c', 'echo inside-the-guest; uname -r']);
  t.is(run.exitCode, 0, run.output);
  t.regex(run.output, /^inside-the-guest$/m);
  // The kernel's release line: proof the output really came from the guest.
  t.regex(run.output, /^\d+\.\d+\.\d+\S*-amd64$/m);
});

guestTest("the command's exit status is carried out of the guest", async (t) => {
  const run = await runGuest(['sh', '-c', 'exit 7']);
  t.is(run.exitCode, 7, run.output);
  t.regex(run.output, /guest: exit status 7/);
});

guestTest('a guest that never finishes fails with the timeout status', async (t) => {
  const run = await runGuest(['--timeout', '25', 'sleep', '1000']);
  t.is(run.exitCode, EXIT_TIMEOUT, run.output);
  t.regex(run.output, /FAILED: timed out after 25 s/);
});

guestTest('a kernel panic, which leaves no result behind, fails the run', async (t) => {
  // sysrq "c" crashes the kernel on purpose; with panic=-1 the guest resets and
  // qemu (-no-reboot) exits 0 without the guest ever writing its result.
  const run = await runGuest(['sh', '-c', 'echo c > /proc/sysrq-trigger; sleep 60']);
  t.is(run.exitCode, EXIT_RIG_FAILURE, run.output);
  t.regex(run.output, /Kernel panic/);
  t.regex(run.output, /FAILED: the guest never reported a result/);
});

guestTest('a kernel WARNING fails a command that itself passed', async (t) => {
  // Written to the kernel log, this line is indistinguishable from a real WARN().
  const run = await runGuest(['sh', '-c', 'echo "WARNING: CPU: 0 PID: 1 at rig.test injected" > /dev/kmsg']);
  t.is(run.exitCode, EXIT_RIG_FAILURE, run.output);
  t.regex(run.output, /the kernel reported problems:\n.*WARNING: CPU: 0 PID: 1 at rig\.test injected/);
});

guestTest('a command printing "WARNING:" itself is not mistaken for the kernel', async (t) => {
  const run = await runGuest(['sh', '-c', 'echo "WARNING: this is test output, not the kernel"']);
  t.is(run.exitCode, 0, run.output);
  t.notRegex(run.output, /kernel reported problems/);
});

guestTest('--env values reach the command verbatim, and a later NAME wins', async (t) => {
  const tricky = `it's "quoted" $HOME \`id\` ; | & \\ *\nsecond line`;
  const run = await runGuest([
    '--env',
    'RIG_ENV_A=first',
    '--env',
    `RIG_ENV_A=${tricky}`,
    '--env=RIG_ENV_B=',
    'sh',
    '-c',
    'printf "<%s>\\n" "$RIG_ENV_A" "${RIG_ENV_B-unset}"',
  ]);
  t.is(run.exitCode, 0, run.output);
  t.true(run.output.includes(`<${tricky}>\n<>\n`), run.output);
});

guestTest('a remembered clean module build never hides a warning added later', async (t) => {
  // kmod-build.sh skips kbuild when the sources match its last clean build;
  // this proves the skip cannot turn a new warning into a pass. Its own
  // sources and build dir: the checkout's module is left alone.
  const dir = mkdtempSync(join(tmpdir(), 'rig-kmod-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sources = join(dir, 'kmod');
  cpSync(join(PROJECT_ROOT, 'kmod'), sources, { recursive: true });
  const env = { ...process.env, DM_REMAP_KMOD_SRC: sources, DM_REMAP_KMOD_BUILD: join(dir, 'build') };
  const build = (): Promise<GuestRun> => runBash('scripts/kmod-build.sh', ['--quiet', '6.1'], env);

  const clean = await build();
  t.is(clean.exitCode, 0, clean.output);
  t.regex(clean.stdout, /dm-remap\.ko$/m);
  const remembered = await build();
  t.is(remembered.exitCode, 0, remembered.output);
  t.is(remembered.stdout, clean.stdout);

  const source = readdirSync(sources).find((name) => name.endsWith('.c'));
  if (source === undefined) throw new Error('kmod/ has no .c file');
  appendFileSync(join(sources, source), '\nstatic int rig_test_unused(void) { int unused; return 0; }\n');
  for (const attempt of ['first', 'second']) {
    const warned = await build();
    t.is(warned.exitCode, 1, `${attempt} build after the change: ${warned.output}`);
    t.regex(warned.output, /rig_test_unused/, attempt);
  }
});

test('--env refuses a NAME that is not a shell identifier, before booting', async (t) => {
  for (const spec of ['1X=a', 'A-B=c', 'NOVALUE', '=x']) {
    const run = await runBash(GUEST_RUNNER, ['--env', spec, 'true']);
    t.is(run.exitCode, 1, `${spec}: ${run.output}`);
    t.regex(run.output, /--env wants NAME=VALUE with NAME a shell identifier/);
  }
});

test('the test runner expands guest-kinds and guest-kernels headers into items', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rig-items-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const both = join(dir, 'both.sh');
  const kernels = join(dir, 'kernels.sh');
  const plain = join(dir, 'plain.sh');
  writeFileSync(both, '#!/usr/bin/env bash\n# guest-kinds: dmstack nullb\n# guest-kernels: 6.1 6.12\n');
  writeFileSync(kernels, '#!/usr/bin/env bash\n# guest-kernels: 6.1 6.12\n');
  writeFileSync(plain, '#!/usr/bin/env bash\n# guest: (nothing)\n');
  // Without DM_REMAP_GUEST_KERNEL: it would pick the kernel like --kernel.
  const env = { ...process.env };
  delete env.DM_REMAP_GUEST_KERNEL;
  const list = async (...args: string[]): Promise<string[]> => {
    const run = await runBash('scripts/guest-tests.sh', ['--list', ...args], env);
    t.is(run.exitCode, 0, run.output);
    return run.stdout.split('\n').filter((line) => line !== '');
  };
  t.deepEqual(await list(both, kernels, plain), [
    `${both} [dmstack, 6.1]`,
    `${both} [dmstack, 6.12]`,
    `${both} [nullb, 6.1]`,
    `${both} [nullb, 6.12]`,
    `${kernels} [6.1]`,
    `${kernels} [6.12]`,
    plain,
  ]);
  // An explicit kernel replaces the header's list; --kind keeps only that kind.
  t.deepEqual(await list('--kernel', '6.12', both, kernels, plain), [
    `${both} [dmstack, 6.12]`,
    `${both} [nullb, 6.12]`,
    `${kernels} [6.12]`,
    plain,
  ]);
  t.deepEqual(await list('--kind', 'nullb', both, plain), [
    `${both} [nullb, 6.1]`,
    `${both} [nullb, 6.12]`,
    plain,
  ]);
  t.deepEqual(await list('--kind', 'scsi', both, plain), [plain]);

  // Items start longest first by their guest-cost (default 30); equal costs
  // keep the order given.
  const long = join(dir, 'long.sh');
  const short = join(dir, 'short.sh');
  writeFileSync(long, '#!/usr/bin/env bash\n# guest-kernels: 6.1 6.12\n# guest-cost: 600\n');
  writeFileSync(short, '#!/usr/bin/env bash\n# guest-cost: 5\n');
  t.deepEqual(await list(short, plain, long, kernels), [
    `${long} [6.1]`,
    `${long} [6.12]`,
    plain,
    `${kernels} [6.1]`,
    `${kernels} [6.12]`,
    short,
  ]);
});
