/**
 * The config watcher as the daemon runs it, counting the bursts it reports,
 * for tests of what one save (or one ConfigMap swap) amounts to.
 */
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchConfigDir } from '../../reconciler/controller/watch.js';
import { classifyEntryName } from '../../reconciler/spec/index.js';

/**
 * Wide margins: chokidar reports a written file only after polling its size,
 * and on a loaded machine that poll can land more than 150 ms after the other
 * events of the same save, which split one burst in two.
 */
export const DEBOUNCE_MS = 500;
/** Longer than the debounce plus chokidar's write-finish check. */
export const SETTLE_MS = 2_000;

/** Watch `dir` (removed at teardown) with the daemon's filter; returns the burst count so far. */
export async function watchBursts(
  t: { teardown(fn: () => Promise<void>): void },
  dir: string,
): Promise<() => number> {
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
  return () => bursts;
}

/**
 * Waits until at least `atLeast` bursts were reported (bounded: a loaded
 * machine can deliver events late), then SETTLE_MS more for any burst that
 * should not come.
 */
export async function settle(bursts: () => number, atLeast: number): Promise<number> {
  for (let waited = 0; bursts() < atLeast && waited < 30_000; waited += 50) await sleep(50);
  await sleep(SETTLE_MS);
  return bursts();
}
