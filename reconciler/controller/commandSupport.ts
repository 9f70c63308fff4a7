/**
 * What the reconcile verbs (`plan`, `apply`, `run`) share when they run: the
 * state dir and lock their options name, the logger they write to, and a
 * controller opened on the chosen kernel. Kept beside the controller so the
 * three implementations stay thin; their options are defined in
 * cli/options.ts, which a start-up loads without any of this.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { CliIo } from '../cli/io.js';
import { resolveConfigDir } from '../cli/options.js';
import type { ReconcileOptions } from '../cli/options.js';
import { EnvironmentError, ExitCode, ExitError, UsageError } from '../cli/errors.js';
import { acquireInstanceLock, DEFAULT_LOCK_PATH, LockError } from '../host/instanceLock.js';
import type { InstanceLock } from '../host/instanceLock.js';
import { KernelError } from '../kernel/adapter.js';
import { createLogger } from '../log.js';
import type { LogFormat, Logger } from '../log.js';
import type { BackoffPolicy } from '../device/backoff.js';
import { Controller } from './controller.js';
import type { ControllerOptions } from './controller.js';
import type { HealthSink } from '../health/monitor.js';
import type { StepHook } from './effects.js';
import { configDirSource } from './specSource.js';
import { kernelUnusable, openKernel } from './kernelChoice.js';
import { parseDuration } from './duration.js';
import { DEFAULT_STATE_DIR, FileStateStore } from './stateStore.js';

/** The state dir: the flag, then $DM_REMAP_STATE_DIR, then beside a simulated kernel's file, then the default. */
export function resolveStateDir(
  options: Pick<ReconcileOptions, 'stateDir' | 'kernel'>,
  env: NodeJS.ProcessEnv,
): string {
  if (options.stateDir !== undefined) return options.stateDir;
  const fromEnv = env.DM_REMAP_STATE_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  // A simulated kernel is a test's private world: its state must not mix with the host's.
  if (options.kernel.startsWith('sim:')) return `${options.kernel.slice('sim:'.length)}.state`;
  return DEFAULT_STATE_DIR;
}

/** A KernelError as the one line an operator needs: exit 69, or 77 when it is a matter of permission. */
export function hostError(what: string, error: KernelError): EnvironmentError {
  const { reason, permission } = kernelUnusable(error);
  return new EnvironmentError(
    `${what}: ${reason}`,
    permission ? ExitCode.noPermission : ExitCode.unavailable,
  );
}

/** hostError for a KernelError; anything else is returned as it is (a bug, reported as such). */
export function environmentError(what: string, error: unknown): unknown {
  return error instanceof KernelError ? hostError(what, error) : error;
}

/**
 * The single-instance lock guards one state dir's view of the kernel:
 * /run/dm-remap/lock for the default state dir (the host's reconciler), else
 * `lock` inside the state dir given (a test, a simulated kernel, a second
 * installation: its own world, which does not wait for the host's).
 */
export function resolveLockPath(options: ReconcileOptions, env: NodeJS.ProcessEnv): string {
  const stateDir = resolveStateDir(options, env);
  return stateDir === DEFAULT_STATE_DIR ? DEFAULT_LOCK_PATH : join(stateDir, 'lock');
}

/**
 * Takes the single-instance lock for a verb that changes the kernel (`apply`,
 * `run`), waiting up to `timeoutMs` (undefined: as long as it takes) for
 * another holder, and saying once on `wait` whom it waits for. A lock still
 * held at the end exits 75 (try again); one that cannot be taken at all is
 * an EnvironmentError (77 without the rights to /run, else 69).
 */
export async function acquireActingLock(
  options: ReconcileOptions,
  io: CliIo,
  settings: { holder: string; timeoutMs?: number; wait: (message: string) => void },
): Promise<InstanceLock> {
  const path = resolveLockPath(options, io.env);
  try {
    return await acquireInstanceLock(path, {
      holder: settings.holder,
      timeoutMs: settings.timeoutMs,
      env: io.env,
      onWait: (holder) =>
        settings.wait(
          `waiting for ${path}, held by ${holder} (one dm-remap acts on device-mapper at a time)`,
        ),
    });
  } catch (cause) {
    if (!(cause instanceof LockError)) throw cause;
    if (cause.reason === 'busy') {
      io.stderr(
        `dm-remap: gave up waiting: ${cause.message} (the daemon converges the specs itself: ` +
          'systemctl reload dm-remap)\n',
      );
      throw new ExitError(ExitCode.unfinished);
    }
    const denied = cause.code === 'EACCES' || cause.code === 'EPERM' || cause.code === 'EROFS';
    throw new EnvironmentError(
      denied ? `${cause.message} (run as root)` : cause.message,
      denied ? ExitCode.noPermission : ExitCode.unavailable,
    );
  }
}

/** A duration option, or a UsageError naming the flag. */
export function durationOption(flag: string, text: string): number {
  const milliseconds = parseDuration(text);
  if (milliseconds === undefined)
    throw new UsageError(`${flag}: "${text}" is not a duration (e.g. 500ms, 30s, 5m)`);
  return milliseconds;
}

/** Log lines go through `write` (a CliIo stream) as JSON or text. */
export function loggerFor(
  write: (text: string) => void,
  format: LogFormat,
  isTTY: boolean,
  settings: { level?: string; journal?: boolean } = {},
): Logger {
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        write(chunk.toString());
        callback();
      },
    }),
    { isTTY },
  );
  return createLogger({ format, stream, ...settings });
}

export interface OpenedController {
  controller: Controller;
  configDir: string;
  /** Release the kernel (a simulated kernel saves its state here). */
  close(): Promise<void>;
}

export async function openController(
  options: ReconcileOptions,
  io: CliIo,
  settings: {
    logger: Logger;
    backoff: BackoffPolicy;
    retryLimit?: number;
    afterStep?: StepHook;
    /** `plan`: read the applied state, never write it. */
    readOnlyState?: boolean;
    /** `run`: where each device's health is evaluated on every pass. */
    health?: HealthSink;
    onDeviceReport?: ControllerOptions['onDeviceReport'];
  },
): Promise<OpenedController> {
  const configDir = resolveConfigDir(options, io.env);
  const operationTimeoutMs = durationOption('--operation-timeout', options.operationTimeout);
  const kernel = await openKernel(options.kernel);
  // One observation first: a host that cannot run dm-remap is told so in one
  // line, not as every device failing to observe (apply) or a stack trace (plan).
  await kernel.adapter.observe().catch((error: unknown) => {
    throw environmentError('cannot observe device-mapper', error);
  });
  const controller = new Controller({
    kernel: kernel.adapter,
    specs: configDirSource(configDir, options.allowInsecurePermissions === true),
    prune: options.prune === true,
    backoff: settings.backoff,
    logger: settings.logger,
    retryLimit: settings.retryLimit,
    operationTimeoutMs,
    afterStep: settings.afterStep,
    stateStore: new FileStateStore(resolveStateDir(options, io.env)),
    readOnlyState: settings.readOnlyState === true,
    ...(settings.health ? { health: settings.health } : {}),
    ...(settings.onDeviceReport ? { onDeviceReport: settings.onDeviceReport } : {}),
    ...(options.acceptDataLoss ? { acceptDataLoss: new Set(options.acceptDataLoss) } : {}),
  });
  return { controller, configDir, close: () => kernel.close() };
}
