/**
 * What `dm-remap status` reports of each device, built from one plan and the
 * observation it was made from: the lifecycle phase (the device machine's
 * state names, or "pending" for a device whose plan holds an action), the
 * conditions (conditions.ts) and the target's counters. Pure.
 */
import type { RemapStatus } from '../kernel/adapter.js';
import type { DevicePlan, Plan, PlanInput } from '../controller/plan.js';
import { conditionsOf, extraCounter, stampConditions } from './conditions.js';
import type { Condition } from './conditions.js';
import type { DeviceSpec } from '../spec/types.js';

/** The target's counters as `status --output json` prints them: the parsed status plus the counters kept in `extra`. */
export type TargetCounters = RemapStatus & { lostSectors: number; otherErrors: number };

export interface DeviceStatus {
  name: string;
  phase: string;
  conditions: Condition[];
  /** null when the device does not run, or its status cannot be read. */
  target: TargetCounters | null;
  /** The spec's thresholds, when a spec declares the device (the rate one only when set). */
  spareUsageWarningPercent?: number;
  remapRateWarningPerDay?: number;
  /** Blocks remapped in the last 24 hours as the daemon watched them (only in the daemon's view). */
  remapsLastDay?: number;
}

/** The spec's warning thresholds a status carries, so exporters can compare against them. */
export function warningThresholds(
  spec: DeviceSpec,
): Pick<DeviceStatus, 'spareUsageWarningPercent' | 'remapRateWarningPerDay'> {
  return {
    spareUsageWarningPercent: spec.spareUsageWarningPercent,
    ...(spec.remapRateWarningPerDay !== undefined
      ? { remapRateWarningPerDay: spec.remapRateWarningPerDay }
      : {}),
  };
}

/** The machine state a device settles in for the plan's first operation (one vocabulary for both). */
const PHASE_OF_NON_ACTION = {
  refuse: 'failed.refused',
  hold: 'held',
  skip: 'paused',
  orphan: 'orphaned',
  blocked: 'removalBlocked',
  wait: 'waitingForDevices',
} as const;

export function phaseOfPlan(device: DevicePlan): string {
  const [first] = device.operations;
  if (!first) return device.present ? 'active' : device.declared ? 'absent' : 'removed';
  return first.kind in PHASE_OF_NON_ACTION
    ? PHASE_OF_NON_ACTION[first.kind as keyof typeof PHASE_OF_NON_ACTION]
    : 'pending';
}

export function targetCounters(status: RemapStatus): TargetCounters {
  return {
    ...status,
    lostSectors: extraCounter(status, 'lost_sectors'),
    otherErrors: extraCounter(status, 'other_errors'),
  };
}

/**
 * One DeviceStatus per planned device, in plan order. `previous` (a
 * daemon's view) keeps the lastTransitionTime of conditions that did not
 * change; without it, every condition is stamped `now`.
 */
export function deviceStatuses(
  plan: Plan,
  input: Pick<PlanInput, 'specs' | 'lastGood' | 'observation'>,
  now: Date,
  previous?: ReadonlyMap<string, Pick<DeviceStatus, 'conditions' | 'remapsLastDay'>>,
): DeviceStatus[] {
  return plan.devices.map((device) => {
    const spec =
      input.specs.find((candidate) => candidate.name === device.name) ?? input.lastGood.get(device.name);
    const observed = input.observation.devices.find(
      (candidate) => candidate.name === device.name && candidate.owned,
    );
    const remap = observed?.remap?.status;
    const phase = phaseOfPlan(device);
    const seen = previous?.get(device.name);
    const remapsLastDay = remap ? seen?.remapsLastDay : undefined;
    const conditions = conditionsOf({
      phase,
      operation: device.operations[0],
      ...(spec ? { spec } : {}),
      ...(remap ? { remap } : {}),
      ...(remapsLastDay !== undefined ? { remapsLastDay } : {}),
    });
    return {
      name: device.name,
      phase,
      conditions: stampConditions(seen?.conditions, conditions, now),
      target: remap ? targetCounters(remap) : null,
      ...(spec ? warningThresholds(spec) : {}),
      ...(remapsLastDay !== undefined ? { remapsLastDay } : {}),
    };
  });
}
