/**
 * `dm-remap run` as a real process on a simulated kernel: it converges at
 * start, follows edits of the config dir, reloads on SIGHUP, and stops
 * cleanly on SIGTERM and SIGINT.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliWorld, spawnCli } from '../controller/cliHarness.js';

interface Daemon {
  lines: { message: string; device?: string; operation?: string; state?: string }[];
  /** Resolves with the first log line matching, or rejects after `timeoutMs`. */
  waitFor(match: (line: Daemon['lines'][number]) => boolean, timeoutMs?: number): Promise<void>;
  signal(name: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

function startDaemon(t: ExecutionContext, world: CliWorld, extra: string[] = []): Daemon {
  const child = spawnCli(t, ['run', ...world.kernelArgs, '--resync-interval', '300ms', ...extra]);
  const lines: Daemon['lines'] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    for (const line of complete) if (line.trim()) lines.push(JSON.parse(line) as Daemon['lines'][number]);
    for (const waiter of [...waiters]) waiter();
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    lines,
    exited,
    signal: (name) => child.kill(name),
    waitFor: (match, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!lines.some(match)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching log line; stderr: ${stderr}; log: ${JSON.stringify(lines)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

test('the daemon converges, follows config edits, and stops on SIGTERM with exit 0', async (t) => {
  const world = await CliWorld.create(t, ['a', 'b']);
  await world.writeSpec('a');
  const daemon = startDaemon(t, world);
  await daemon.waitFor((line) => line.device === 'a' && line.state === 'active');

  await world.writeSpec('b', ['readRetries: 4']);
  await daemon.waitFor((line) => line.device === 'b' && line.state === 'active');

  await world.writeSpec('a', ['readRetries: 9']);
  await daemon.waitFor((line) => line.device === 'a' && line.operation === 'reload');

  daemon.signal('SIGTERM');
  t.is(await daemon.exited, 0);
  t.true(daemon.lines.some((line) => line.message === 'stopped'));
  t.like(await world.device('a'), {
    table: '0 65536 remap 8:0 8:16 6 block_size 8 read_retries 9 main_id disk-a-main',
    suspended: false,
  });
  t.like(await world.device('b'), {
    table: '0 65536 remap 8:32 8:48 6 block_size 8 read_retries 4 main_id disk-b-main',
    suspended: false,
  });
  t.like(await world.device('vg-root'), { uuid: 'LVM-root', table: '0 2048 zero' });
});

test('editor leftovers and an invalid save never change a running device', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  const daemon = startDaemon(t, world);
  await daemon.waitFor((line) => line.device === 'a' && line.state === 'active');
  await fs.writeFile(path.join(world.configDir, 'a.yaml~'), 'garbage');
  await fs.writeFile(path.join(world.configDir, 'a.yaml'), 'apiVersion: dm-remap/v1alpha1\nkind: [\n');
  await daemon.waitFor((line) => line.device === 'a' && line.state === 'held');
  daemon.signal('SIGINT');
  t.is(await daemon.exited, 0);
  t.false(
    daemon.lines.some((line) => line.device === 'a' && ['reload', 'remove'].includes(line.operation ?? '')),
  );
  t.like(await world.device('a'), {
    table: '0 65536 remap 8:0 8:16 6 block_size 8 read_retries 3 main_id disk-a-main',
    suspended: false,
  });
});

/** Polls `condition` until it holds, or fails after `timeoutMs`. */
async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const TABLE_A = '0 65536 remap 8:0 8:16 6 block_size 8 read_retries 3 main_id disk-a-main';

test("SIGHUP runs a pass: a device changed behind the daemon's back is repaired then, not before", async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  // No resync and no config change: only SIGHUP can start a pass.
  const daemon = startDaemon(t, world, ['--resync-interval', '1h']);
  await daemon.waitFor((line) => line.device === 'a' && line.state === 'active');
  await eventually(async () => (await world.device('a'))?.table === TABLE_A, 'the kernel file to show a');

  // Another tool reloads a with other settings.
  const drifted = TABLE_A.replace('read_retries 3', 'read_retries 7');
  const state = await world.kernel();
  const a = state.devices.find((device) => device.name === 'a');
  if (!a) return t.fail('a is not in the kernel');
  a.table = drifted;
  await world.writeKernel(state);
  await sleep(1_500);
  t.is((await world.device('a'))?.table, drifted, 'a pass ran before SIGHUP');

  daemon.signal('SIGHUP');
  await eventually(async () => (await world.device('a'))?.table === TABLE_A, 'SIGHUP to repair a');
  t.true(daemon.lines.some((line) => line.device === 'a' && line.operation === 'reload'));
  daemon.signal('SIGTERM');
  t.is(await daemon.exited, 0);
});

test('SIGTERM while an operation hangs: run gives up after --stop-timeout and exits 75', async (t) => {
  const world = await CliWorld.create(t, ['a']);
  await world.writeSpec('a');
  // The create never answers (until the simulator's 5 s hang timeout): it is in flight at SIGTERM.
  await world.writeKernel({ ...(await world.kernel()), faults: [{ operation: 'create', hang: true }] });
  const daemon = startDaemon(t, world, ['--stop-timeout', '200ms']);
  await daemon.waitFor((line) => line.device === 'a' && line.state === 'creating');
  daemon.signal('SIGTERM');
  t.is(await daemon.exited, 75);
  t.true(daemon.lines.some((line) => line.message === 'stopped with operations still in flight'));
});
