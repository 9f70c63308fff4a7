/**
 * What `status` and `metrics` share: one read-only look at every device — the
 * specs, the applied state and one observation of the kernel — turned into
 * each device's phase, conditions and target counters. No lock is taken: it
 * never waits for an apply or the daemon.
 */
import type { CliIo } from './io.js';
import { ExitError, exitCodeOfDiagnostics } from './errors.js';
import { printDiagnostics } from './output.js';
import {
  environmentError,
  loggerFor,
  openController,
  resolveLockPath,
} from '../controller/commandSupport.js';
import type { ReconcileOptions } from './options.js';
import { DAEMON_BACKOFF } from '../device/backoff.js';
import type { Diagnostic } from '../spec/index.js';
import { deviceStatuses } from '../health/deviceStatus.js';
import type { DeviceStatus } from '../health/deviceStatus.js';
import { DAEMON_VIEW_FILE, readDaemonView } from '../health/daemonView.js';
import path from 'node:path';

export interface DeviceStatusRead {
  devices: DeviceStatus[];
  diagnostics: Diagnostic[];
  now: Date;
  /** The conditions' lastTransitionTime comes from a running daemon's view (else: this observation). */
  transitionsKnown: boolean;
}

/**
 * Every device's status now. Config that cannot be acted on (unreadable, or
 * changeable by non-root) is printed and ends the command with 74 or 77; a
 * kernel that cannot be observed with 69 or 77.
 */
export async function readDeviceStatus(options: ReconcileOptions, io: CliIo): Promise<DeviceStatusRead> {
  const logger = loggerFor((text) => io.stderr(text), options.logFormat, process.stderr.isTTY === true);
  const opened = await openController(options, io, { logger, backoff: DAEMON_BACKOFF, readOnlyState: true });
  try {
    const { controller } = opened;
    await controller.loadSpecs();
    const refusal = controller.refusalReason;
    if (refusal) {
      printDiagnostics(io, controller.diagnostics);
      io.stderr(`error: cannot tell what is declared: ${refusal}\n`);
      throw new ExitError(exitCodeOfDiagnostics(controller.diagnostics));
    }
    const { plan, input } = await controller.planAndInput().catch((error: unknown) => {
      throw environmentError('cannot observe device-mapper', error);
    });
    const now = new Date();
    const view = await readDaemonView(daemonViewPath(options, io.env));
    return {
      devices: deviceStatuses(plan, input, now, view),
      diagnostics: [...controller.diagnostics],
      now,
      transitionsKnown: view !== undefined,
    };
  } finally {
    await opened.close();
  }
}

/** Where the daemon keeps its view: beside its instance lock (/run/dm-remap/ for the host's daemon). */
export function daemonViewPath(options: ReconcileOptions, env: NodeJS.ProcessEnv): string {
  return path.join(path.dirname(resolveLockPath(options, env)), DAEMON_VIEW_FILE);
}
