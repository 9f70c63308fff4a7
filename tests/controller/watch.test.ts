import test from 'ava';
import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchConfigDir } from '../../reconciler/controller/watch.js';
import { classifyEntryName } from '../../reconciler/spec/index.js';

/**
 * Wide margins: chokidar reports a written file only after polling its size,
 * and on a loaded machine that poll can land more than 150 ms after the other
 * events of the same save, which split one burst in two.
 */
const DEBOUNCE_MS = 500;
/** Longer than the debounce plus chokidar's write-finish check. */
const SETTLE_MS = 2_000;

async function watchedDir(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'dm-remap-watch-'));
  let bursts = 0;
  const watcher = watchConfigDir(dir, () => (bursts += 1), {
    debounceMs: DEBOUNCE_MS,
    ignoreName: (name) => !classifyEntryName(name).read,
  });
  t.teardown(async () => {
    await watcher.close();
    await rm(dir, { recursive: true, force: true });
  });
  await watcher.ready;
  return { dir, bursts: () => bursts };
}

test('an atomic save (temp file renamed over the spec) is one burst', async (t) => {
  const { dir, bursts } = await watchedDir(t);
  await writeFile(path.join(dir, '.a.yaml.tmp'), 'one');
  await rename(path.join(dir, '.a.yaml.tmp'), path.join(dir, 'a.yaml'));
  await sleep(SETTLE_MS);
  t.is(bursts(), 1);
});

test("vim's backup dance (rename to a~, write, delete a~) is one burst", async (t) => {
  const { dir, bursts } = await watchedDir(t);
  await writeFile(path.join(dir, 'a.yaml'), 'one');
  await sleep(SETTLE_MS);
  const before = bursts();
  await rename(path.join(dir, 'a.yaml'), path.join(dir, 'a.yaml~'));
  await writeFile(path.join(dir, 'a.yaml'), 'two');
  await unlink(path.join(dir, 'a.yaml~'));
  await sleep(SETTLE_MS);
  t.is(bursts() - before, 1);
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
  await sleep(SETTLE_MS);
  await unlink(path.join(dir, 'a.yaml'));
  await sleep(SETTLE_MS);
  t.is(bursts(), 2);
});
