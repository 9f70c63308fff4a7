/**
 * The daemon's view of every device (phase, conditions, target counters),
 * kept in `status.json` beside the instance lock (/run/dm-remap/ for the
 * host's daemon): `dm-remap status` run beside a daemon takes each
 * condition's lastTransitionTime from it, so AGE says how long a device has
 * been as it is. Written atomically (temporary file, rename) and only when
 * the view changes; ignored by readers when the daemon that wrote it is gone.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { DeviceStatus } from './deviceStatus.js';

export const DAEMON_VIEW_FILE = 'status.json';

interface DaemonView {
  pid: number;
  devices: DeviceStatus[];
}

export class DaemonViewWriter {
  private queue: Promise<void> = Promise.resolve();
  private written = '';
  private failure = '';

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {}

  update(devices: readonly DeviceStatus[]): void {
    const text =
      JSON.stringify({ pid: process.pid, devices: [...devices] } satisfies DaemonView, null, 2) + '\n';
    if (text === this.written) return;
    this.written = text;
    this.queue = this.queue.then(() => this.write(text));
  }

  /** Resolves when every queued write is done. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** The view goes with the daemon: a stale one would say devices are as they were. */
  async remove(): Promise<void> {
    await this.queue;
    await rm(this.file, { force: true });
  }

  private async write(text: string): Promise<void> {
    const temporary = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
    try {
      await writeFile(temporary, text, { mode: 0o644 });
      await rename(temporary, this.file);
      this.failure = '';
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      const message = (error as Error).message;
      // Once per distinct failure: a full /run must not fill the journal too.
      if (message !== this.failure) {
        this.failure = message;
        this.logger.warn(`cannot write the status view ${this.file}: ${message}`, { operation: 'health' });
      }
    }
  }
}

/** What a running daemon last saw of a device that `status` cannot see itself. */
export type DaemonDeviceView = Pick<DeviceStatus, 'conditions' | 'remapsLastDay'>;

/** Each device's conditions (and remaps in the last day) as a running daemon last saw them; undefined without a live daemon's view. */
export async function readDaemonView(file: string): Promise<Map<string, DaemonDeviceView> | undefined> {
  let view: DaemonView;
  try {
    view = JSON.parse(await readFile(file, 'utf8')) as DaemonView;
  } catch {
    return undefined;
  }
  if (!Number.isInteger(view.pid) || !Array.isArray(view.devices) || !alive(view.pid)) return undefined;
  return new Map(
    view.devices.map((device) => [
      device.name,
      {
        conditions: device.conditions,
        ...(device.remapsLastDay !== undefined ? { remapsLastDay: device.remapsLastDay } : {}),
      },
    ]),
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else (status run by a user beside root's daemon).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
