import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireInstanceLock, LockError } from '../../reconciler/host/instanceLock.js';

async function lockPath(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dm-remap-lock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'run', 'lock');
}

test('a second holder waits, names the first, and gives up at its timeout', async (t) => {
  const path = await lockPath(t);
  const first = await acquireInstanceLock(path, { holder: 'run' });
  t.is(await readFile(path, 'utf8'), `pid ${process.pid} run\n`);
  const waitedFor: string[] = [];
  const error = await t.throwsAsync(
    acquireInstanceLock(path, { holder: 'apply', timeoutMs: 200, onWait: (h) => waitedFor.push(h) }),
    { instanceOf: LockError },
  );
  t.is(error?.reason, 'busy');
  t.deepEqual(waitedFor, [`pid ${process.pid} run`]);
  await first.release();
  const second = await acquireInstanceLock(path, { holder: 'apply', timeoutMs: 200 });
  t.is(await readFile(path, 'utf8'), `pid ${process.pid} apply\n`);
  await second.release();
});

test('a waiter gets the lock as soon as the holder releases it', async (t) => {
  const path = await lockPath(t);
  const first = await acquireInstanceLock(path, { holder: 'apply' });
  setTimeout(() => void first.release(), 300);
  const second = await acquireInstanceLock(path, { holder: 'apply', timeoutMs: 10_000 });
  t.pass();
  await second.release();
});

test('a holder killed with SIGKILL leaves no stale lock', async (t) => {
  const path = await lockPath(t);
  // A separate node process takes the lock, says so, and waits to be killed.
  const script =
    `const { acquireInstanceLock } = await import(${JSON.stringify(new URL('../../reconciler/host/instanceLock.ts', import.meta.url).href)});` +
    `await acquireInstanceLock(${JSON.stringify(path)}, { holder: 'run' }); console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import=tsx/esm', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => void child.kill('SIGKILL'));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  await t.throwsAsync(acquireInstanceLock(path, { holder: 'apply', timeoutMs: 100 }), {
    instanceOf: LockError,
  });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('close', resolve));
  const lock = await acquireInstanceLock(path, { holder: 'apply', timeoutMs: 1000 });
  t.pass();
  await lock.release();
});

test('a lock that cannot be created is unavailable, not busy', async (t) => {
  const path = await lockPath(t);
  const first = await acquireInstanceLock(path, { holder: 'run' });
  t.teardown(() => first.release());
  // The lock file itself stands where a directory is needed.
  const error = await t.throwsAsync(
    acquireInstanceLock(join(path, 'lock'), { holder: 'apply', timeoutMs: 100 }),
    {
      instanceOf: LockError,
    },
  );
  t.is(error?.reason, 'unavailable');
  t.truthy(error?.code);
});
