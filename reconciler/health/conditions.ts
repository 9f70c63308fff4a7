/**
 * The health rules: from what is known of one device — its lifecycle phase
 * (the device machine's state, or what its plan says), its spec and its
 * target's status — the four conditions an operator and a monitoring system
 * read, written as Kubernetes writes them:
 *
 * - `Ready`: the device is as declared and serves I/O (or is absent as
 *   declared, or deliberately left alone: paused, held, orphaned).
 * - `Progressing`: the reconciler has work to do on it, or is retrying.
 * - `Degraded`: it works, but is losing its margin or has lost data: spare
 *   usage at `spareUsageWarningPercent` or over, pending blocks, a full spare,
 *   lost sectors, remap failures, a health value this reconciler does not know.
 * - `Failed`: it needs an operator: the target's metadata cannot be written,
 *   main was declared failing, or the reconciler refuses the spec.
 *
 * Remapped blocks alone (the target's `health=degraded`) are not Degraded:
 * moving failing blocks is what the target is for; the thresholds say when it
 * is too much. Pure: nothing here reads a clock, a file or the kernel.
 */
import type { RemapStatus } from '../kernel/adapter.js';
import type { DeviceSpec } from '../spec/index.js';
import type { Operation } from '../controller/plan.js';
import type { DeviceFailure } from '../device/machine.js';

export const CONDITION_TYPES = ['Ready', 'Progressing', 'Degraded', 'Failed'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** One condition as `status --output json` prints it and the daemon logs its transitions. */
export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  /** CamelCase, stable: alert rules and scripts match on it. */
  reason: string;
  message: string;
  /** When `status` last changed (ISO 8601); a new reason with the same status keeps it. */
  lastTransitionTime: string;
}

export type ConditionCore = Omit<Condition, 'lastTransitionTime'>;

export interface HealthInput {
  /**
   * The device machine's state ("active", "failed.refused", "creating", ...)
   * or, without a daemon, "pending" for a device whose plan holds an action.
   */
  phase: string;
  /** The operation the plan (or the machine) is on; what a non-action says is the message. */
  operation?: Operation;
  /** The last failure of a device that is backing off. */
  failure?: DeviceFailure;
  /** The device's spec (its thresholds), when one declares it. */
  spec?: DeviceSpec;
  /** The target's parsed status, when the device runs and its status could be read. */
  remap?: RemapStatus;
  /** Blocks remapped in the last 24 hours, as far as the daemon has watched (undefined: not known). */
  remapsLastDay?: number;
}

/** Phases in which the device is as declared, or deliberately left as it is (apply counts them converged). */
const SETTLED_PHASES: Readonly<Record<string, string>> = {
  active: 'Active',
  absent: 'Absent',
  paused: 'Paused',
  held: 'Held',
  orphaned: 'Orphaned',
};

/** The conditions of one device, in CONDITION_TYPES order. */
export function conditionsOf(input: HealthInput): ConditionCore[] {
  const failed = failedCondition(input);
  const progressing = progressingCondition(input);
  return [readyCondition(input, failed), progressing, degradedCondition(input), failed];
}

/** Ready and neither Degraded nor Failed: what `dm-remap status` exits 0 on. */
export function healthy(conditions: readonly ConditionCore[]): boolean {
  const status = (type: ConditionType) => conditions.find((condition) => condition.type === type)?.status;
  return status('Ready') === 'True' && status('Degraded') !== 'True' && status('Failed') !== 'True';
}

/** Give each condition its lastTransitionTime: the previous one while its status holds, else `now`. */
export function stampConditions(
  previous: readonly Condition[] | undefined,
  next: readonly ConditionCore[],
  now: Date,
): Condition[] {
  return next.map((condition) => {
    const before = previous?.find((candidate) => candidate.type === condition.type);
    const lastTransitionTime =
      before && before.status === condition.status ? before.lastTransitionTime : now.toISOString();
    return { ...condition, lastTransitionTime };
  });
}

/**
 * The conditions whose status or reason changed since `previous` (all of them
 * the first time): what the daemon logs and hands to --on-condition-change.
 */
export function changedConditions(
  previous: readonly ConditionCore[] | undefined,
  next: readonly Condition[],
): Condition[] {
  return next.filter((condition) => {
    const before = previous?.find((candidate) => candidate.type === condition.type);
    return !before || before.status !== condition.status || before.reason !== condition.reason;
  });
}

function readyCondition(input: HealthInput, failed: ConditionCore): ConditionCore {
  const ready = (status: ConditionStatus, reason: string, message: string): ConditionCore => ({
    type: 'Ready',
    status,
    reason,
    message,
  });
  // A target that cannot record a remap, or whose main is dying, is not ready whatever the lifecycle says.
  if (failed.status === 'True' && input.phase === 'active')
    return ready('False', failed.reason, failed.message);
  const settled = SETTLED_PHASES[input.phase];
  if (settled !== undefined) return ready('True', settled, settledMessage(input));
  if (input.phase === 'failed.refused') return ready('False', 'Refused', operationReason(input));
  if (input.phase === 'failed.backingOff') return ready('False', 'BackingOff', failureMessage(input.failure));
  if (input.phase === 'waitingForDevices') return ready('False', 'WaitingForDevices', operationReason(input));
  if (input.phase === 'removalBlocked') return ready('False', 'RemovalBlocked', operationReason(input));
  if (input.phase === 'pending') return ready('False', 'Pending', operationReason(input));
  return ready('False', 'Reconciling', `${input.phase}: ${operationReason(input)}`);
}

function settledMessage(input: HealthInput): string {
  if (input.phase === 'active') return 'the device runs as declared';
  if (input.phase === 'absent') return 'the device is absent, as declared';
  return operationReason(input);
}

function progressingCondition(input: HealthInput): ConditionCore {
  const progressing = (status: ConditionStatus, reason: string, message: string): ConditionCore => ({
    type: 'Progressing',
    status,
    reason,
    message,
  });
  if (input.phase === 'failed.backingOff') {
    return progressing('True', 'Retrying', failureMessage(input.failure));
  }
  const settled = SETTLED_PHASES[input.phase] !== undefined;
  const waiting = ['failed.refused', 'waitingForDevices', 'removalBlocked'].includes(input.phase);
  if (settled || waiting) return progressing('False', 'Converged', 'nothing to do');
  const kind = input.operation?.kind;
  const reason = kind ? kind.charAt(0).toUpperCase() + kind.slice(1) : 'Reconciling';
  return progressing('True', reason, operationReason(input));
}

function failedCondition(input: HealthInput): ConditionCore {
  const failed = (status: ConditionStatus, reason: string, message: string): ConditionCore => ({
    type: 'Failed',
    status,
    reason,
    message,
  });
  const health = input.remap?.health;
  if (health === 'metadata_error') {
    return failed(
      'True',
      'MetadataError',
      'the target could not write its remap table to the spare: no block is moved until it is fixed ' +
        '(kmod/README.md, "A failed metadata write")',
    );
  }
  if (health === 'failing') {
    return failed(
      'True',
      'MainFailing',
      'the target declared the main device failing: I/O errors are returned unchanged and nothing is moved; ' +
        'copy the data off (`dmsetup message NAME 0 clear_stats` resumes moves)',
    );
  }
  if (input.phase === 'failed.refused' && input.operation?.kind === 'refuse') {
    const code = input.operation.code;
    return failed('True', code.charAt(0).toUpperCase() + code.slice(1), input.operation.reason);
  }
  return failed('False', 'Healthy', 'nothing needs an operator');
}

/** Degraded reasons, most urgent first: the first that holds is the reason, every one that holds is in the message. */
function degradedCondition(input: HealthInput): ConditionCore {
  const degraded = (status: ConditionStatus, reason: string, message: string): ConditionCore => ({
    type: 'Degraded',
    status,
    reason,
    message,
  });
  const status = input.remap;
  if (!status) {
    const expected = input.phase !== 'absent' && input.spec?.state !== 'absent';
    return degraded(
      expected ? 'Unknown' : 'False',
      'NotRunning',
      expected ? 'no target status to read: the device does not run' : 'the device does not run',
    );
  }
  const findings = degradedFindings(status, input.spec, input.remapsLastDay);
  const [first] = findings;
  if (!first) return degraded('False', 'Healthy', healthyMessage(status));
  return degraded('True', first.reason, findings.map((finding) => finding.message).join('; '));
}

interface Finding {
  reason: string;
  message: string;
}

function degradedFindings(
  status: RemapStatus,
  spec: DeviceSpec | undefined,
  remapsLastDay: number | undefined,
): Finding[] {
  const findings: Finding[] = [];
  const lost = lostSectors(status);
  if (status.health === 'spare_full') {
    findings.push({
      reason: 'SpareFull',
      message: `spare full (${status.spareBlocksUsed} of ${status.spareBlocksTotal} blocks): a block that fails now cannot be moved`,
    });
  }
  if (status.pendingBlocks > 0) {
    findings.push({
      reason: 'PendingBlocks',
      message:
        `${plural(status.pendingBlocks, 'pending block')}: main could not read ` +
        (status.pendingBlocks === 1
          ? 'it and no write has replaced it'
          : 'them and no write has replaced them'),
    });
  }
  if (lost > 0) {
    findings.push({
      reason: 'LostSectors',
      message: `${plural(lost, 'sector')} lost: main could not read them while their block was moved, and they were zeroed`,
    });
  }
  if (status.remapFailures > 0) {
    findings.push({
      reason: 'RemapFailures',
      message: `${plural(status.remapFailures, 'block')} should have moved and could not`,
    });
  }
  const threshold = spec?.spareUsageWarningPercent;
  if (
    threshold !== undefined &&
    status.spareBlocksTotal > 0 &&
    status.health !== 'spare_full' &&
    status.spareBlocksUsed * 100 >= threshold * status.spareBlocksTotal
  ) {
    findings.push({
      reason: 'SpareUsageHigh',
      message:
        `spare ${spareUsagePercent(status)}% used (${status.spareBlocksUsed} of ${status.spareBlocksTotal} blocks), ` +
        `at or over the warning threshold of ${threshold}%`,
    });
  }
  const rate = spec?.remapRateWarningPerDay;
  if (rate !== undefined && remapsLastDay !== undefined && remapsLastDay >= rate) {
    findings.push({
      reason: 'RemapRateHigh',
      message: `${plural(remapsLastDay, 'block')} remapped in the last 24 hours, at or over the warning rate of ${rate} a day`,
    });
  }
  if (!KNOWN_HEALTH.has(status.health)) {
    findings.push({
      reason: 'UnknownHealth',
      message: `the target reports health=${status.health}, which this dm-remap does not know (a newer module?)`,
    });
  }
  return findings;
}

const KNOWN_HEALTH: ReadonlySet<string> = new Set([
  'ok',
  'degraded',
  'spare_full',
  'failing',
  'metadata_error',
]);

function healthyMessage(status: RemapStatus): string {
  return status.remappedBlocks > 0
    ? `${plural(status.remappedBlocks, 'block')} remapped, spare ${spareUsagePercent(status)}% used`
    : 'no block remapped or pending';
}

/** Spare usage in whole percent, rounded down (80% means at least 80%). */
export function spareUsagePercent(status: RemapStatus): number {
  return status.spareBlocksTotal > 0
    ? Math.floor((status.spareBlocksUsed * 100) / status.spareBlocksTotal)
    : 0;
}

/** A counter the target prints after the ones the parser requires (`lost_sectors`, `other_errors`); 0 when absent. */
export function extraCounter(status: RemapStatus, key: string): number {
  const word = status.extra[key];
  return word !== undefined && /^\d+$/.test(word) ? Number(word) : 0;
}

export function lostSectors(status: RemapStatus): number {
  return extraCounter(status, 'lost_sectors');
}

function operationReason(input: HealthInput): string {
  return input.operation?.reason ?? input.phase;
}

function failureMessage(failure: DeviceFailure | undefined): string {
  return failure ? `${failure.during}: ${failure.message} (${failure.code})` : 'retrying after a failure';
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
