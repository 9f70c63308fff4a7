/**
 * `dm-remap apply`: converge every device once and report how each ended.
 * Devices run concurrently; one that fails is retried with backoff up to
 * --retries times within --timeout while the others carry on. Exit status 0
 * only when every device reached what its spec declares (or was deliberately
 * left alone: held, paused, orphaned; or is nofail and its disks did not
 * appear within its deviceTimeout); 1 when one rests unconverged; 75 when
 * --timeout passed with one still at work; 69/74/77 for the host or config.
 */
import type { CliIo } from '../io.js';
import { EnvironmentError, ExitCode, ExitError, exitCodeOfDiagnostics, UsageError } from '../errors.js';
import { KernelError } from '../../kernel/adapter.js';
import { isError } from '../../spec/index.js';
import { printDiagnostics } from '../output.js';
import {
  acquireActingLock,
  durationOption,
  hostError,
  loggerFor,
  openController,
} from '../../controller/commandSupport.js';
import type { ConvergeResult, DeviceReport } from '../../controller/controller.js';
import type { BackoffPolicy } from '../../device/backoff.js';
import type { ApplyOptions } from '../commands/apply.js';

type GaveUpWaiting = ConvergeResult['gaveUpWaiting'][number];

/** Short retries: apply is interactive, and --retries bounds how long a broken device holds it up. */
const APPLY_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 4_000 };
/** Time left after --timeout for in-flight operations to finish (a reload always gets to resume). */
const STOP_GRACE_MS = 30_000;

export async function applyCommand(options: ApplyOptions, io: CliIo): Promise<void> {
  const timeoutMs = durationOption('--timeout', options.timeout);
  const retryLimit = Number(options.retries);
  if (!Number.isInteger(retryLimit) || retryLimit < 0) {
    throw new UsageError(`--retries: "${options.retries}" is not a whole number`);
  }
  const logger = loggerFor((text) => io.stderr(text), options.logFormat, process.stderr.isTTY === true);
  // Never beside another apply or the daemon: wait up to --timeout for them.
  const lock = await acquireActingLock(options, io, {
    holder: 'apply',
    timeoutMs,
    wait: (message) => logger.info(message, { operation: 'lock' }),
  });
  const opened = await openController(options, io, { logger, backoff: APPLY_BACKOFF, retryLimit }).catch(
    async (cause: unknown) => {
      await lock.release();
      throw cause;
    },
  );
  const { controller } = opened;
  try {
    const { reports, timedOut, gaveUpWaiting } = await controller.converge(timeoutMs);
    const refusal = controller.refusalReason;
    const diagnostics = controller.diagnostics;
    const waits = new Map(gaveUpWaiting.map((device) => [device.name, device]));
    // nofail: disks that did not appear within deviceTimeout are reported, not a failure.
    const skipped = reports.filter((report) => waits.get(report.name)?.nofail === true);
    const failed = reports.filter((report) => !report.converged && !skipped.includes(report));

    if (options.output === 'json') {
      io.stdout(
        JSON.stringify(
          { configDir: opened.configDir, refusal, timedOut, devices: reports, gaveUpWaiting, diagnostics },
          null,
          2,
        ) + '\n',
      );
    } else {
      printDiagnostics(io, diagnostics);
      if (refusal) io.stderr(`error: not acting on any device: ${refusal}\n`);
      for (const report of reports) io.stdout(describe(report, waits.get(report.name)) + '\n');
      if (timedOut) io.stderr(`error: gave up waiting after ${options.timeout}\n`);
      const converged = reports.length - failed.length - skipped.length;
      const skips = skipped.length > 0 ? `, ${skipped.length} skipped (nofail)` : '';
      io.stdout(`${converged} of ${reports.length} devices converged${skips}.\n`);
    }
    // Config that cannot be acted on at all: unreadable (74) or changeable by non-root (77).
    if (refusal) throw new ExitError(exitCodeOfDiagnostics(diagnostics));
    const environment = hostFailureOf(reports);
    if (environment) throw environment;
    // A device still at work when --timeout passed (an operation running, a retry due) may yet
    // converge: 75, try again. One that rests unconverged (refused, waiting for a disk, out of
    // retries) will not: 1, which outweighs 75.
    const stillWorking = (report: DeviceReport) =>
      !report.settled || (report.state === 'failed.backingOff' && report.failures <= retryLimit);
    if (diagnostics.some(isError) || failed.some((report) => !stillWorking(report))) {
      throw new ExitError(ExitCode.notConverged);
    }
    if (timedOut) throw new ExitError(ExitCode.unfinished);
    if (failed.length > 0) throw new ExitError(ExitCode.notConverged);
  } finally {
    await controller.stop(STOP_GRACE_MS);
    await opened.close();
    await lock.release();
  }
}

/**
 * A device that failed because of the host rather than its spec: the module
 * is not installed (69), or device-mapper refused us (77). One line says so,
 * once, whatever the number of devices it stopped.
 */
function hostFailureOf(reports: readonly DeviceReport[]): EnvironmentError | undefined {
  for (const { name, failure } of reports) {
    if (!failure) continue;
    const error = new KernelError(failure.message, failure.during, name, failure.code);
    if (failure.during === 'loadingModule' && failure.code === 'ENOENT') {
      const { message, code } = hostError('cannot load the dm-remap module', error);
      // modprobe ran and found no module (spawn failures already say which package to install).
      const hint = /\bspawn\b/.test(failure.message) ? '' : ' (build and install it: kmod/README.md)';
      return new EnvironmentError(message + hint, code);
    }
    if (failure.code === 'EPERM' || failure.code === 'EACCES') {
      return hostError(`${name}: ${failure.during} failed`, error);
    }
  }
  return undefined;
}

function describe(report: DeviceReport, wait: GaveUpWaiting | undefined): string {
  const status = report.converged ? 'ok  ' : wait?.nofail ? 'skip' : 'FAIL';
  const failure = report.failure
    ? ` — ${report.failure.during}: ${report.failure.message} (${report.failure.code})`
    : '';
  const reason = report.operation && !report.failure ? ` — ${report.operation.reason}` : '';
  const gaveUp = wait
    ? ` (gave up after its deviceTimeout of ${formatDuration(wait.deviceTimeoutMs)}${wait.nofail ? ', nofail' : ''})`
    : '';
  return `${status} ${report.name}: ${report.state}${failure || reason}${gaveUp}`;
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1_000}s`;
}
