/**
 * Watches the config dir and calls back once per burst of changes. Editors
 * save in several steps (vim: write a backup, rename, write, delete; others:
 * write a temp file and rename it over the original), so events are debounced
 * and a file is reported only once its size has stopped changing. The
 * callback carries no details on purpose: the controller re-reads the whole
 * dir, which makes a missed or reordered event harmless.
 *
 * A watcher can fail (ENOSPC when the inotify watch limit is reached, EMFILE
 * when the process is out of descriptors). That is reported, the watcher is
 * closed and made again after a delay that backs off while it keeps failing,
 * and once a new one is ready the callback fires: whatever changed while
 * nothing watched is read then.
 */
import { watch } from 'chokidar';
import type { ChokidarOptions } from 'chokidar';
import { retryDelayMs } from '../device/backoff.js';
import type { BackoffPolicy } from '../device/backoff.js';

/** What the config watch needs of a file watcher (chokidar's FSWatcher; a fake in tests). */
export interface FileWatcher {
  on(event: 'all', listener: () => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  once(event: 'ready', listener: () => void): unknown;
  close(): Promise<void>;
}

export type WatcherFactory = (dir: string, options: ChokidarOptions) => FileWatcher;

export const chokidarWatcher: WatcherFactory = (dir, options) => watch(dir, options);

/** First re-arm after 1 s, then doubling to 1 min: a watch limit does not lift by itself. */
export const REARM_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000 };

export interface ConfigWatchOptions {
  debounceMs: number;
  /** File names the spec loader skips (editor backups, swap files); their churn triggers nothing. */
  ignoreName?: (name: string) => boolean;
  /** The watcher failed; a new one is made after `retryInMs`. */
  onError?: (error: Error, retryInMs: number) => void;
  /** A new watcher is ready after a failure (the change callback follows). */
  onRearmed?: () => void;
  rearm?: BackoffPolicy;
  createWatcher?: WatcherFactory;
}

export interface ConfigWatch {
  /** Resolves once the initial scan is done, so changes after it are seen (or once the watcher failed). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function watchConfigDir(dir: string, onChange: () => void, options: ConfigWatchOptions): ConfigWatch {
  const createWatcher = options.createWatcher ?? chokidarWatcher;
  const rearm = options.rearm ?? REARM_BACKOFF;
  const ignoreName = options.ignoreName;
  const watcherOptions: ChokidarOptions = {
    ignoreInitial: true,
    depth: 0,
    atomic: true,
    awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 25 },
    ignored: ignoreName ? (path: string) => path !== dir && ignoreName(baseName(path)) : undefined,
  };

  let debounce: NodeJS.Timeout | undefined;
  let rearmTimer: NodeJS.Timeout | undefined;
  let healthyTimer: NodeJS.Timeout | undefined;
  let current: FileWatcher | undefined;
  /** Consecutive failures; forgotten once a watcher has lasted the longest delay. */
  let failures = 0;
  let closed = false;
  let readyNow: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (readyNow = resolve));

  const trigger = () => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = undefined;
      onChange();
    }, options.debounceMs);
  };

  const fail = (watcher: FileWatcher | undefined, error: unknown) => {
    // Only the live watcher's first error counts; a closed one may still report.
    if (closed || watcher !== current) return;
    current = undefined;
    clearTimeout(healthyTimer);
    failures += 1;
    const retryInMs = retryDelayMs(failures, rearm);
    options.onError?.(error instanceof Error ? error : new Error(String(error)), retryInMs);
    watcher?.close().catch(() => undefined);
    readyNow(); // nobody waits for a watcher that failed: the resync timer covers until the next one
    rearmTimer = setTimeout(() => {
      rearmTimer = undefined;
      if (!closed) start(true);
    }, retryInMs);
  };

  const start = (afterFailure: boolean) => {
    let watcher: FileWatcher;
    try {
      watcher = createWatcher(dir, watcherOptions);
    } catch (error) {
      fail(undefined, error);
      return;
    }
    current = watcher;
    watcher.on('error', (error) => fail(watcher, error));
    watcher.on('all', () => {
      if (watcher === current) trigger();
    });
    watcher.once('ready', () => {
      if (closed || watcher !== current) return;
      readyNow();
      if (!afterFailure) return;
      healthyTimer = setTimeout(() => (failures = 0), rearm.maxMs);
      options.onRearmed?.();
      trigger();
    });
  };

  start(false);
  return {
    ready,
    async close() {
      closed = true;
      clearTimeout(debounce);
      clearTimeout(rearmTimer);
      clearTimeout(healthyTimer);
      await current?.close();
    },
  };
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
