/**
 * The long-running reconciler (`dm-remap run`): one pass at start (observe
 * first, so whatever a crash left behind is repaired before anything new is
 * done), then a pass on every config change, on every resync tick (drift
 * repair: devices changed or removed behind our back) and on SIGHUP. Stopping
 * lets in-flight operations finish so no device is left suspended.
 *
 * A config watcher that fails never stops the daemon: the failure is logged
 * (once per distinct error), the resync tick goes on, and the watcher is made
 * again with backoff (watch.ts).
 */
import type { Logger } from '../log.js';
import type { BackoffPolicy } from '../device/backoff.js';
import type { Controller } from './controller.js';
import { watchConfigDir } from './watch.js';
import type { ConfigWatch, WatcherFactory } from './watch.js';

export interface DaemonOptions {
  configDir: string;
  resyncIntervalMs: number;
  debounceMs: number;
  logger: Logger;
  ignoreName?: (name: string) => boolean;
  /** Delays before a failed config watcher is made again (default watch.ts's REARM_BACKOFF). */
  rearm?: BackoffPolicy;
  /** Makes the config watcher (default chokidar; tests hand in a fake). */
  createWatcher?: WatcherFactory;
}

const WATCH = { operation: 'watch' } as const;

export class Daemon {
  private watcher: ConfigWatch | undefined;
  private resync: NodeJS.Timeout | undefined;
  /** Watch failures already logged at warn level: a limit hit again and again says so once. */
  private readonly reportedWatchErrors = new Set<string>();
  private lastWatchErrorReported = false;

  constructor(
    private readonly controller: Pick<Controller, 'reconcileAll' | 'stop'>,
    private readonly options: DaemonOptions,
  ) {}

  async start(): Promise<void> {
    this.watcher = watchConfigDir(this.options.configDir, () => this.trigger('config change'), {
      debounceMs: this.options.debounceMs,
      ignoreName: this.options.ignoreName,
      rearm: this.options.rearm,
      createWatcher: this.options.createWatcher,
      onError: (error, retryInMs) => this.watchFailed(error, retryInMs),
      onRearmed: () => this.watchRearmed(),
    });
    await this.watcher.ready;
    this.resync = setInterval(() => this.trigger('resync'), this.options.resyncIntervalMs);
    this.trigger('start');
  }

  /**
   * SIGHUP and the triggers above: a full level-triggered pass. Only the
   * resync tick is routine: it is logged at debug, so a pass that finds
   * nothing to do adds nothing at info (what it does is logged per device).
   */
  trigger(why: string): void {
    const level = why === 'resync' ? 'debug' : 'info';
    this.options.logger.log(level, `reconciling all devices (${why})`, { operation: 'reconcileAll' });
    this.controller.reconcileAll().catch((error: unknown) => {
      this.options.logger.error(`pass failed: ${String(error)}`, { operation: 'reconcileAll' });
    });
  }

  /** Stop watching and ticking, let in-flight operations finish, then stop every device actor. */
  async stop(graceMs: number): Promise<boolean> {
    if (this.resync) clearInterval(this.resync);
    await this.watcher?.close();
    const settled = await this.controller.stop(graceMs);
    this.options.logger.info(settled ? 'stopped' : 'stopped with operations still in flight', {
      operation: 'shutdown',
    });
    return settled;
  }

  private watchFailed(error: Error, retryInMs: number): void {
    const key = `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}`;
    const first = !this.reportedWatchErrors.has(key);
    this.reportedWatchErrors.add(key);
    this.lastWatchErrorReported = first;
    if (!first) {
      this.options.logger.debug(
        `config watch failed again: ${error.message}; retry in ${retryInMs} ms`,
        WATCH,
      );
      return;
    }
    this.options.logger.warn(
      `config watch failed: ${error.message}; watching ${this.options.configDir} again in ` +
        `${seconds(retryInMs)} (backing off while it fails); the resync every ` +
        `${seconds(this.options.resyncIntervalMs)} picks up changes meanwhile`,
      WATCH,
    );
  }

  /** watch.ts reports a change right after this: whatever changed while nothing watched is read. */
  private watchRearmed(): void {
    const level = this.lastWatchErrorReported ? 'info' : 'debug';
    this.options.logger.log(level, `watching ${this.options.configDir} again`, WATCH);
  }
}

function seconds(milliseconds: number): string {
  return milliseconds < 1_000 ? `${milliseconds} ms` : `${Math.round(milliseconds / 1_000)} s`;
}
