/**
 * The long-running reconciler (`dm-remap run`): one pass at start (observe
 * first, so whatever a crash left behind is repaired before anything new is
 * done), then a pass on every config change, on every resync tick (drift
 * repair: devices changed or removed behind our back) and on SIGHUP. Stopping
 * lets in-flight operations finish so no device is left suspended.
 */
import type { Logger } from '../log.js';
import type { Controller } from './controller.js';
import { watchConfigDir } from './watch.js';
import type { ConfigWatch } from './watch.js';

export interface DaemonOptions {
  configDir: string;
  resyncIntervalMs: number;
  debounceMs: number;
  logger: Logger;
  ignoreName?: (name: string) => boolean;
}

export class Daemon {
  private watcher: ConfigWatch | undefined;
  private resync: NodeJS.Timeout | undefined;

  constructor(
    private readonly controller: Controller,
    private readonly options: DaemonOptions,
  ) {}

  async start(): Promise<void> {
    this.watcher = watchConfigDir(this.options.configDir, () => this.trigger('config change'), {
      debounceMs: this.options.debounceMs,
      ignoreName: this.options.ignoreName,
    });
    await this.watcher.ready;
    this.resync = setInterval(() => this.trigger('resync'), this.options.resyncIntervalMs);
    this.trigger('start');
  }

  /** SIGHUP and the triggers above: a full level-triggered pass. */
  trigger(why: string): void {
    this.options.logger.info(`reconciling all devices (${why})`, { operation: 'reconcileAll' });
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
}
