/**
 * `dm-remap run`: the daemon. Converges at start, then on every change of the
 * config dir, every --resync-interval (drift repair) and on SIGHUP. SIGTERM
 * and SIGINT stop it gracefully: in-flight operations finish, so no device is
 * left suspended; if some are still running after --stop-timeout it exits 75
 * (EX_TEMPFAIL) rather than 0. Logs go to stdout as JSON lines (journald)
 * unless on a terminal or --log-format says otherwise.
 */
import type { CliIo } from '../io.js';
import { EnvironmentError, ExitCode, ExitError, UsageError } from '../errors.js';
import { classifyEntryName } from '../../spec/index.js';
import {
  acquireActingLock,
  durationOption,
  loggerFor,
  openController,
} from '../../controller/commandSupport.js';
import { Daemon } from '../../controller/daemon.js';
import { pauseHookFromEnv } from '../../controller/pauseHook.js';
import { DAEMON_BACKOFF } from '../../device/backoff.js';
import { systemdNotifier } from '../../host/systemdNotify.js';
import { DaemonMonitoring } from '../../metrics/daemonMonitoring.js';
import { readPreviousConditions } from '../../health/daemonView.js';
import { parseMetricsAddress } from '../../metrics/server.js';
import { daemonViewPath } from '../readDeviceStatus.js';
import type { MetricsAddress } from '../../metrics/server.js';
import type { Controller } from '../../controller/controller.js';
import type { RunOptions } from '../commands/run.js';

const WATCH_DEBOUNCE_MS = 300;
/**
 * READY=1 (systemd Type=notify) is sent when the first pass has settled every
 * device, or after this long if one is still busy: below systemd's default
 * TimeoutStartSec of 90 s, so a slow device never gets the daemon killed.
 */
const READY_WAIT_MS = 60_000;

export async function runCommand(options: RunOptions, io: CliIo): Promise<void> {
  const resyncIntervalMs = durationOption('--resync-interval', options.resyncInterval);
  const stopTimeoutMs = durationOption('--stop-timeout', options.stopTimeout);
  const metricsAddress = metricsAddressOption(options.metricsAddress);
  const logger = loggerFor((text) => io.stdout(text), options.logFormat, process.stdout.isTTY === true, {
    level: options.logLevel,
    // Under systemd: each line's syslog priority, so `journalctl -p warning` shows warnings alone.
    journal: io.env.JOURNAL_STREAM !== undefined && io.env.JOURNAL_STREAM !== '',
  });
  // Held for the daemon's whole life: an apply run beside it waits (and gives up after its --timeout).
  const lock = await acquireActingLock(options, io, {
    holder: 'run',
    wait: (message) => logger.info(message, { operation: 'lock' }),
  });
  const viewPath = daemonViewPath(options, io.env);
  const monitoring = new DaemonMonitoring({
    logger,
    env: io.env,
    ...(options.onConditionChange ? { onConditionChange: options.onConditionChange } : {}),
    ...(metricsAddress ? { metricsAddress } : {}),
    viewPath,
    // Read under the lock: no other daemon writes it now.
    previousConditions: await readPreviousConditions(viewPath),
  });
  const opened = await openController(options, io, {
    logger,
    backoff: DAEMON_BACKOFF,
    afterStep: pauseHookFromEnv(io.env),
    health: monitoring.health,
    onDeviceReport: monitoring.onDeviceReport,
  }).catch(async (cause: unknown) => {
    await lock.release();
    throw cause;
  });
  const daemon = new Daemon(monitoring.counted(opened.controller), {
    configDir: opened.configDir,
    resyncIntervalMs,
    debounceMs: WATCH_DEBOUNCE_MS,
    logger,
    ignoreName: (name) => !classifyEntryName(name).read,
  });
  const reload = () => daemon.trigger('SIGHUP');
  let stopSignal: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => (stopSignal = resolve));
  process.once('SIGTERM', () => stopSignal('SIGTERM'));
  process.once('SIGINT', () => stopSignal('SIGINT'));
  process.on('SIGHUP', reload);
  try {
    logger.info(`watching ${opened.configDir}, resync every ${options.resyncInterval}`, {
      operation: 'start',
    });
    await monitoring.start().catch((error: unknown) => {
      throw new EnvironmentError(
        `--metrics-address ${options.metricsAddress}: ${(error as Error).message}`,
        ExitCode.unavailable,
      );
    });
    await daemon.start();
    markReadyWhenSettled(opened.controller, monitoring);
    const notifier = systemdNotifier(io.env);
    if (notifier) {
      const settled = await opened.controller.waitUntil((report) => report.settled, READY_WAIT_MS);
      const status = settled ? 'first pass done' : 'first pass still busy';
      await notifier.notify({ READY: '1', STATUS: `${status}; watching ${opened.configDir}` });
    }
    const signal = await stopped;
    await notifier?.notify({ STOPPING: '1', STATUS: `${signal}: finishing in-flight operations` });
    logger.info(`${signal}: finishing in-flight operations`, { operation: 'shutdown' });
    // Operations still in flight after --stop-timeout: say so to systemd and scripts (75), do not claim a clean stop.
    if (!(await daemon.stop(stopTimeoutMs))) throw new ExitError(ExitCode.unfinished);
  } finally {
    process.off('SIGHUP', reload);
    await monitoring.stop();
    await opened.close();
    await lock.release();
  }
}

function metricsAddressOption(text: string | undefined): MetricsAddress | undefined {
  if (text === undefined) return undefined;
  const address = parseMetricsAddress(text);
  if (!address)
    throw new UsageError(`--metrics-address: "${text}" is not PORT or HOST:PORT (e.g. 127.0.0.1:9860)`);
  return address;
}

/** /readyz: 200 once the first pass has settled every device. */
function markReadyWhenSettled(controller: Controller, monitoring: DaemonMonitoring): void {
  controller
    .waitUntil((report) => report.settled, READY_WAIT_MS)
    .then((settled) => (settled ? monitoring.markReady() : markReadyWhenSettled(controller, monitoring)))
    .catch(() => undefined);
}
