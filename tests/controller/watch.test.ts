import test from 'ava';
import { EventEmitter } from 'node:events';
import { mkdtemp, rename, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchConfigDir } from '../../reconciler/controller/watch.js';
import type { FileWatcher } from '../../reconciler/controller/watch.js';
import { SETTLE_MS, settle, watchBursts } from '../helpers/watchBursts.js';

async function watchedDir(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'dm-remap-watch-'));
  return { dir, bursts: await watchBursts(t, dir) };
}

test('an atomic save (temp file renamed over the spec) is one burst', async (t) => {
  const { dir, bursts } = await watchedDir(t);
  await writeFile(path.join(dir, '.a.yaml.tmp'), 'one');
  await rename(path.join(dir, '.a.yaml.tmp'), path.join(dir, 'a.yaml'));
  t.is(await settle(bursts, 1), 1);
});

test("vim's backup dance (rename to a~, write, delete a~) is one burst", async (t) => {
  const { dir, bursts } = await watchedDir(t);
  await writeFile(path.join(dir, 'a.yaml'), 'one');
  const before = await settle(bursts, 1);
  await rename(path.join(dir, 'a.yaml'), path.join(dir, 'a.yaml~'));
  await writeFile(path.join(dir, 'a.yaml'), 'two');
  await unlink(path.join(dir, 'a.yaml~'));
  t.is((await settle(bursts, before + 1)) - before, 1);
});

test('editor leftovers alone trigger nothing', async (t) => {
  const { dir, bursts } = await watchedDir(t);
  await writeFile(path.join(dir, '.a.yaml.swp'), 'x');
  await writeFile(path.join(dir, 'a.yaml~'), 'x');
  await writeFile(path.join(dir, 'a.yaml.dpkg-new'), 'x');
  await sleep(SETTLE_MS);
  t.is(bursts(), 0);
});

test('a deleted spec is a burst too', async (t) => {
  const { dir, bursts } = await watchedDir(t);
  await writeFile(path.join(dir, 'a.yaml'), 'one');
  await settle(bursts, 1);
  await unlink(path.join(dir, 'a.yaml'));
  t.is(await settle(bursts, 2), 2);
});

class FakeWatcher extends EventEmitter implements FileWatcher {
  closed = false;
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function watchFailure(code: string): Error {
  return Object.assign(new Error(`${code}: watch failed`), { code });
}

test('a watcher that fails before its first scan does not hold up ready, and is made again', async (t) => {
  const watchers: FakeWatcher[] = [];
  const failures: number[] = [];
  let rearmed = 0;
  let bursts = 0;
  const watch = watchConfigDir('/etc/dm-remap.d', () => (bursts += 1), {
    debounceMs: 10,
    rearm: { baseMs: 20, maxMs: 1_000 },
    onError: (_error, retryInMs) => failures.push(retryInMs),
    onRearmed: () => (rearmed += 1),
    createWatcher: () => {
      const watcher = new FakeWatcher();
      watchers.push(watcher);
      // The first one fails (EMFILE) instead of finishing its scan; the next ones work.
      setImmediate(() =>
        watchers.length === 1 ? watcher.emit('error', watchFailure('EMFILE')) : watcher.emit('ready'),
      );
      return watcher;
    },
  });
  t.teardown(() => watch.close());
  await watch.ready;
  t.deepEqual(failures, [20]);
  await sleep(200);
  t.is(watchers.length, 2);
  t.true(watchers[0]?.closed);
  t.is(rearmed, 1);
  t.is(bursts, 1, 'a change missed while nothing watched is looked for once');
});

test('a watcher that keeps failing is made again with growing delays, up to the cap', async (t) => {
  const watchers: FakeWatcher[] = [];
  const delays: number[] = [];
  const watch = watchConfigDir('/etc/dm-remap.d', () => undefined, {
    debounceMs: 10,
    rearm: { baseMs: 10, maxMs: 40 },
    onError: (_error, retryInMs) => delays.push(retryInMs),
    createWatcher: () => {
      const watcher = new FakeWatcher();
      watchers.push(watcher);
      setImmediate(() => watcher.emit('error', watchFailure('ENOSPC')));
      return watcher;
    },
  });
  t.teardown(() => watch.close());
  await watch.ready;
  await sleep(300);
  t.deepEqual(delays.slice(0, 4), [10, 20, 40, 40]);
  await watch.close();
  const made = watchers.length;
  await sleep(100);
  t.is(watchers.length, made, 'closed: no watcher is made any more');
});
