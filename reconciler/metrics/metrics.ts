/**
 * Prometheus metrics (prom-client). Two registries:
 *
 * - DeviceMetrics: per device, the target's counters as its status shows them
 *   (each series equals the value `dmsetup status` printed at the last pass),
 *   the conditions, the lifecycle phase and the spare warning threshold. Both
 *   the daemon's /metrics and `dm-remap metrics --textfile` print these.
 * - ControllerMetrics: the daemon's own work — passes, operations by kind and
 *   outcome, and their durations.
 *
 * The target's counters are counters (`_total`) where the kernel's are: they
 * only grow until `clear_stats` or a reload zeroes them, which Prometheus'
 * rate() reads as a counter reset. They are set from the status, never
 * counted here.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConditionStatus } from '../health/conditions.js';
import type { DeviceStatus } from '../health/deviceStatus.js';

/** Phases with a series of their own; any other (a busy machine state) is "reconciling". */
export const PHASES = [
  'active',
  'absent',
  'paused',
  'held',
  'orphaned',
  'pending',
  'reconciling',
  'removalBlocked',
  'waitingForDevices',
  'failed.refused',
  'failed.backingOff',
] as const;

const TARGET_HEALTH = ['ok', 'degraded', 'spare_full', 'failing', 'metadata_error'] as const;
const CONDITION_STATUSES: readonly ConditionStatus[] = ['True', 'False', 'Unknown'];

/** Every metric family either registry prints (the dashboard and the alert rules are checked against it). */
export const METRIC_NAMES = [
  'dm_remap_remapped_blocks',
  'dm_remap_pending_blocks',
  'dm_remap_spare_blocks_used',
  'dm_remap_spare_blocks_total',
  'dm_remap_spare_usage_warning_ratio',
  'dm_remap_remap_rate_warning_per_day',
  'dm_remap_io_errors_total',
  'dm_remap_other_errors_total',
  'dm_remap_remap_failures_total',
  'dm_remap_lost_sectors_total',
  'dm_remap_metadata_sequence',
  'dm_remap_target_health',
  'dm_remap_device_condition',
  'dm_remap_device_condition_reason',
  'dm_remap_device_phase',
  'dm_remap_reconcile_passes_total',
  'dm_remap_reconcile_pass_duration_seconds',
  'dm_remap_operations_total',
  'dm_remap_operation_duration_seconds',
] as const;

type Labels = 'device' | 'direction' | 'health' | 'type' | 'status' | 'reason' | 'phase';
type LabelSet = Partial<Record<Labels, string>>;

export class DeviceMetrics {
  readonly registry = new Registry();
  private readonly gauges: Gauge<Labels>[] = [];
  /** Per device, every series set for it, so that one device's series can be replaced alone. */
  private readonly series = new Map<
    string,
    { metric: Gauge<Labels> | Counter<Labels>; labels: LabelSet }[]
  >();
  private readonly counters: Counter<Labels>[] = [];
  private readonly remapped = this.gauge('dm_remap_remapped_blocks', 'Blocks remapped onto the spare.');
  private readonly pending = this.gauge(
    'dm_remap_pending_blocks',
    'Blocks main could not read and no write has replaced since (their data is unreadable).',
  );
  private readonly spareUsed = this.gauge('dm_remap_spare_blocks_used', 'Spare slots in use, in blocks.');
  private readonly spareTotal = this.gauge('dm_remap_spare_blocks_total', 'Spare slots in all, in blocks.');
  private readonly warningRatio = this.gauge(
    'dm_remap_spare_usage_warning_ratio',
    "The spec's spareUsageWarningPercent as a ratio: Degraded/SpareUsageHigh at used/total at or over it.",
  );
  private readonly rateWarning = this.gauge(
    'dm_remap_remap_rate_warning_per_day',
    "The spec's remapRateWarningPerDay: Degraded/RemapRateHigh at this many blocks remapped in 24 hours (absent: unset).",
  );
  private readonly ioErrors = this.counter(
    'dm_remap_io_errors_total',
    'Failed bios seen on main and the spare since the table was loaded or clear_stats.',
    ['device', 'direction'],
  );
  private readonly otherErrors = this.counter(
    'dm_remap_other_errors_total',
    'Failed bios on main whose error does not say the medium failed (returned unchanged).',
  );
  private readonly remapFailures = this.counter(
    'dm_remap_remap_failures_total',
    'Blocks that should have moved to the spare and could not.',
  );
  private readonly lostSectors = this.counter(
    'dm_remap_lost_sectors_total',
    'Sectors zeroed while moving a block because main could not read them.',
  );
  private readonly metadataSequence = this.gauge(
    'dm_remap_metadata_sequence',
    "Sequence number of the spare's newest metadata update.",
  );
  private readonly targetHealth = this.gauge(
    'dm_remap_target_health',
    "The target's own health word: 1 for the one it reports, 0 for the others.",
    ['device', 'health'],
  );
  private readonly condition = this.gauge(
    'dm_remap_device_condition',
    "A device condition's status: 1 for the one it has, 0 for the others.",
    ['device', 'type', 'status'],
  );
  private readonly conditionReason = this.gauge(
    'dm_remap_device_condition_reason',
    "A device condition's current reason (always 1).",
    ['device', 'type', 'reason'],
  );
  private readonly phase = this.gauge(
    'dm_remap_device_phase',
    "The device's lifecycle phase: 1 for the one it is in, 0 for the others.",
    ['device', 'phase'],
  );

  /** Replace every series with what `devices` say: a device no longer listed loses its series. */
  update(devices: readonly DeviceStatus[]): void {
    for (const metric of [...this.gauges, ...this.counters]) metric.reset();
    this.series.clear();
    for (const device of devices) this.set(device);
  }

  /** Replace one device's series (the daemon: only a device whose view changed costs anything). */
  updateDevice(device: DeviceStatus): void {
    this.forgetDevice(device.name);
    this.set(device);
  }

  /** Drop every series of one device. */
  forgetDevice(name: string): void {
    for (const { metric, labels } of this.series.get(name) ?? []) metric.remove(labels);
    this.series.delete(name);
  }

  private set(device: DeviceStatus): void {
    // Label sets are written as literals, never spread ({ ...labels, phase }): V8 gives each
    // object made by a spread in a loop a hidden class of its own, about 200 bytes each for
    // the ~44 series a device has (a third of the daemon's metrics memory with 1,000 devices).
    const name = device.name;
    const labels = { device: name };
    const recorded: { metric: Gauge<Labels> | Counter<Labels>; labels: LabelSet }[] = [];
    this.series.set(device.name, recorded);
    const gauge = (metric: Gauge<Labels>, set: LabelSet, value: number) => {
      metric.set(set, value);
      recorded.push({ metric, labels: set });
    };
    const counter = (metric: Counter<Labels>, set: LabelSet, value: number) => {
      metric.inc(set, value);
      recorded.push({ metric, labels: set });
    };
    const phase = (PHASES as readonly string[]).includes(device.phase) ? device.phase : 'reconciling';
    for (const candidate of PHASES)
      gauge(this.phase, { device: name, phase: candidate }, candidate === phase ? 1 : 0);
    for (const condition of device.conditions) {
      for (const status of CONDITION_STATUSES) {
        gauge(
          this.condition,
          { device: name, type: condition.type, status },
          condition.status === status ? 1 : 0,
        );
      }
      gauge(this.conditionReason, { device: name, type: condition.type, reason: condition.reason }, 1);
    }
    if (device.spareUsageWarningPercent !== undefined) {
      gauge(this.warningRatio, labels, device.spareUsageWarningPercent / 100);
    }
    if (device.remapRateWarningPerDay !== undefined) {
      gauge(this.rateWarning, labels, device.remapRateWarningPerDay);
    }
    const target = device.target;
    if (!target) return;
    gauge(this.remapped, labels, target.remappedBlocks);
    gauge(this.pending, labels, target.pendingBlocks);
    gauge(this.spareUsed, labels, target.spareBlocksUsed);
    gauge(this.spareTotal, labels, target.spareBlocksTotal);
    gauge(this.metadataSequence, labels, target.metadataSequence);
    counter(this.ioErrors, { device: name, direction: 'read' }, target.readErrors);
    counter(this.ioErrors, { device: name, direction: 'write' }, target.writeErrors);
    counter(this.otherErrors, labels, target.otherErrors);
    counter(this.remapFailures, labels, target.remapFailures);
    counter(this.lostSectors, labels, target.lostSectors);
    const healths = new Set<string>([...TARGET_HEALTH, target.health]);
    for (const health of healths)
      gauge(this.targetHealth, { device: name, health }, health === target.health ? 1 : 0);
  }

  private gauge(name: string, help: string, labelNames: Labels[] = ['device']): Gauge<Labels> {
    const gauge = new Gauge({ name, help, labelNames, registers: [this.registry] });
    this.gauges.push(gauge);
    return gauge;
  }

  private counter(name: string, help: string, labelNames: Labels[] = ['device']): Counter<Labels> {
    const counter = new Counter({ name, help, labelNames, registers: [this.registry] });
    this.counters.push(counter);
    return counter;
  }
}

/** Seconds; a pass reads specs and observes the kernel, an operation waits for dmsetup (and udev). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export type OperationOutcome = 'success' | 'error';

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly passes = new Counter({
    name: 'dm_remap_reconcile_passes_total',
    help: 'Reconcile passes over every device (start, config change, resync, SIGHUP).',
    registers: [this.registry],
  });
  private readonly passDuration = new Histogram({
    name: 'dm_remap_reconcile_pass_duration_seconds',
    help: 'How long a pass took to read the specs, observe the kernel and wake each device.',
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly operations = new Counter({
    name: 'dm_remap_operations_total',
    help: 'Kernel operations carried out on devices, by kind (create, reload, remove, ...) and outcome.',
    labelNames: ['kind', 'outcome'],
    registers: [this.registry],
  });
  private readonly operationDuration = new Histogram({
    name: 'dm_remap_operation_duration_seconds',
    help: 'How long each kernel operation on a device took, by kind.',
    labelNames: ['kind'],
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  /** Count a pass; call the function returned when it ends. */
  passStarted(): () => void {
    this.passes.inc();
    const end = this.passDuration.startTimer();
    return () => {
      end();
    };
  }

  operationFinished(kind: string, outcome: OperationOutcome, seconds: number): void {
    this.operations.inc({ kind, outcome });
    this.operationDuration.observe({ kind }, seconds);
  }
}

/** Every series of both registries, as the text exposition format. */
export async function exposition(registries: readonly Registry[]): Promise<string> {
  return Registry.merge([...registries]).metrics();
}
