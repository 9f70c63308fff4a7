/**
 * What `dm-remap run` adds to the controller to be watched: the health
 * monitor (rules on every pass, transitions logged, --on-condition-change),
 * the Prometheus registries fed from it and from the device reports, and the
 * HTTP endpoint when --metrics-address is given. run.ts builds one and hands
 * its hooks to the controller.
 */
import type { Controller, DeviceReport } from '../controller/controller.js';
import type { Logger } from '../log.js';
import { HealthMonitor } from '../health/monitor.js';
import type { Condition } from '../health/conditions.js';
import { transitionCommand } from '../health/transitionCommand.js';
import type { TransitionCommand } from '../health/transitionCommand.js';
import { ControllerMetrics, DeviceMetrics } from './metrics.js';
import { Registry } from 'prom-client';
import { startMetricsServer } from './server.js';
import { DaemonViewWriter } from '../health/daemonView.js';
import type { MetricsAddress, MetricsServer } from './server.js';

export interface DaemonMonitoringOptions {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  onConditionChange?: string;
  metricsAddress?: MetricsAddress;
  /** Where the view `dm-remap status` reads is kept (daemonView.ts). */
  viewPath?: string;
  /** Each device's conditions as the previous daemon left them (daemonView.ts). */
  previousConditions?: ReadonlyMap<string, readonly Condition[]>;
}

export class DaemonMonitoring {
  readonly health: HealthMonitor;
  readonly devices = new DeviceMetrics();
  readonly controllerMetrics = new ControllerMetrics();
  private readonly command: TransitionCommand | undefined;
  private readonly operations = new OperationClock(this.controllerMetrics);
  private server: MetricsServer | undefined;
  private readonly view: DaemonViewWriter | undefined;
  private ready = false;
  private viewPending = false;
  private stopped = false;

  constructor(private readonly options: DaemonMonitoringOptions) {
    this.command = options.onConditionChange
      ? transitionCommand(options.onConditionChange, { logger: options.logger, env: options.env })
      : undefined;
    const onChange = this.command?.handle;
    this.health = new HealthMonitor({
      logger: options.logger,
      ...(onChange ? { onChange } : {}),
      ...(options.previousConditions ? { previous: options.previousConditions } : {}),
    });
    this.health.subscribe((name, status) =>
      status ? this.devices.updateDevice(status) : this.devices.forgetDevice(name),
    );
    this.view = options.viewPath ? new DaemonViewWriter(options.viewPath, options.logger) : undefined;
    if (this.view) {
      const view = this.view;
      this.health.subscribe(() => this.viewChanged(view));
    }
  }

  /**
   * The view file holds every device: it is written once per turn of the
   * event loop however many devices changed in it (a start settles them all
   * at once), not once per device.
   */
  private viewChanged(view: DaemonViewWriter): void {
    if (this.viewPending) return;
    this.viewPending = true;
    setImmediate(() => {
      this.viewPending = false;
      // The view goes with the daemon: none is written once stopping removed it.
      if (!this.stopped) view.update(this.health.devices());
    });
  }

  /** The controller calls this on every report of every device (operation counts and durations). */
  readonly onDeviceReport = (name: string, report: DeviceReport): void =>
    this.operations.report(name, report);

  /** The controller as the daemon drives it, with each pass counted and timed. */
  counted(controller: Pick<Controller, 'reconcileAll' | 'stop'>): Pick<Controller, 'reconcileAll' | 'stop'> {
    return {
      reconcileAll: () => {
        const done = this.controllerMetrics.passStarted();
        return controller.reconcileAll().finally(done);
      },
      stop: (graceMs) => controller.stop(graceMs),
    };
  }

  /** /readyz answers 200 from now on. */
  markReady(): void {
    this.ready = true;
  }

  async start(): Promise<void> {
    const address = this.options.metricsAddress;
    if (!address) return;
    const registry = Registry.merge([this.devices.registry, this.controllerMetrics.registry]);
    this.server = await startMetricsServer({
      address,
      ready: () => this.ready,
      metrics: async () => ({ text: await registry.metrics(), contentType: registry.contentType }),
    });
    this.options.logger.info(`serving metrics on ${this.server.url}/metrics`, { operation: 'metrics' });
  }

  /** Stop serving, and let queued transition commands finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.server?.close();
    await this.command?.idle();
    await this.view?.remove();
  }
}

/**
 * Times each kernel operation of each device from the machine's reports: it
 * starts when the device enters an action state and ends when it observes
 * again (success) or backs off (error).
 */
class OperationClock {
  private readonly inFlight = new Map<string, { kind: string; started: number }>();

  constructor(private readonly metrics: ControllerMetrics) {}

  report(name: string, report: DeviceReport): void {
    const busy = !report.settled && report.state !== 'observing';
    const current = this.inFlight.get(name);
    if (busy) {
      if (!current) {
        this.inFlight.set(name, { kind: report.operation?.kind ?? report.state, started: performance.now() });
      }
      return;
    }
    if (!current) return;
    this.inFlight.delete(name);
    const outcome = report.state === 'failed.backingOff' ? 'error' : 'success';
    this.metrics.operationFinished(current.kind, outcome, (performance.now() - current.started) / 1_000);
  }
}
