/**
 * The daemon's view of each device's health: the rules (conditions.ts)
 * evaluated every time a device settles — every pass — from the status that
 * round observed. A condition that changes is news: Degraded and Failed
 * transitions are logged once at warning level and handed to `onChange` (the
 * --on-condition-change command); a pass that changes nothing says nothing.
 * A device already Degraded or Failed when first seen (a daemon start) is
 * reported once; one first seen healthy is not. Conditions a previous daemon
 * left (daemonView.ts) count as what a device was before it is first seen:
 * after a restart only what changed meanwhile is news.
 */
import type { Logger } from '../log.js';
import { changedConditions, conditionsOf, stampConditions } from './conditions.js';
import type { Condition, ConditionCore, ConditionType, HealthInput } from './conditions.js';
import { targetCounters, warningThresholds } from './deviceStatus.js';
import type { DeviceStatus } from './deviceStatus.js';

const DAY_MS = 86_400_000;

interface RemapSample {
  at: number;
  remapped: number;
}

export interface HealthView extends HealthInput {
  name: string;
}

export interface ConditionChange {
  device: string;
  condition: Condition;
  /** What it was before; undefined the first time the device is seen. */
  previous?: ConditionCore;
}

/** The conditions whose transitions are logged at warning level and run the command. */
export const ALERTING_CONDITIONS: readonly ConditionType[] = ['Degraded', 'Failed'];

/** What the controller tells the monitor (controller.ts calls these). */
export interface HealthSink {
  update(view: HealthView): void;
  forget(name: string): void;
}

export interface HealthMonitorOptions {
  logger: Logger;
  /** Called once per transition of an alerting condition; must not throw (errors are its own to report). */
  onChange?: (change: ConditionChange) => void;
  now?: () => Date;
  /** Each device's conditions as a previous daemon left them (readPreviousConditions). */
  previous?: ReadonlyMap<string, readonly Condition[]>;
}

/** Hears of one device whose view changed; `status` is undefined when the device was forgotten. */
export type DeviceListener = (name: string, status: DeviceStatus | undefined) => void;

export class HealthMonitor implements HealthSink {
  private readonly views = new Map<string, DeviceStatus>();
  /** Each view as last told to listeners, to tell a change from a repeat. */
  private readonly texts = new Map<string, string>();
  /** Per device, its remapped count when it changed, over the last day (and the one before it). */
  private readonly history = new Map<string, RemapSample[]>();
  private readonly listeners = new Set<DeviceListener>();
  /** What the previous daemon left, for each device until it is first seen. */
  private readonly inherited: Map<string, readonly Condition[]>;

  constructor(private readonly options: HealthMonitorOptions) {
    this.inherited = new Map(options.previous ?? []);
  }

  update(view: HealthView): Condition[] {
    const before = this.views.get(view.name) ?? this.inheritedView(view.name);
    const now = (this.options.now ?? (() => new Date()))();
    const remapsLastDay = view.remap
      ? this.remapsLastDay(view.name, view.remap.remappedBlocks, now)
      : undefined;
    const input = remapsLastDay === undefined ? view : { ...view, remapsLastDay };
    const conditions = stampConditions(before?.conditions, conditionsOf(input), now);
    const status: DeviceStatus = {
      name: view.name,
      phase: view.phase,
      conditions,
      target: view.remap ? targetCounters(view.remap) : null,
      ...(view.spec ? warningThresholds(view.spec) : {}),
      ...(remapsLastDay !== undefined ? { remapsLastDay } : {}),
    };
    this.views.set(view.name, status);
    // Conditions keep their lastTransitionTime while they hold, so an unchanged
    // device makes the same text: a steady pass costs its listeners nothing.
    const text = JSON.stringify(status);
    const changed = this.texts.get(view.name) !== text;
    this.texts.set(view.name, text);
    const log = this.options.logger.child({ device: view.name });
    for (const condition of changedConditions(before?.conditions, conditions)) {
      if (!ALERTING_CONDITIONS.includes(condition.type)) continue;
      const previous = before?.conditions.find((candidate) => candidate.type === condition.type);
      // First seen and fine: not a transition anyone needs to hear of.
      if (!previous && condition.status !== 'True') continue;
      const was = previous ? `, was ${previous.status} (${previous.reason})` : '';
      log.warn(`${condition.type} is ${condition.status} (${condition.reason})${was}: ${condition.message}`, {
        operation: 'health',
        condition: condition.type,
        status: condition.status,
        reason: condition.reason,
      });
      this.options.onChange?.({
        device: view.name,
        condition,
        ...(previous ? { previous: { ...previous } } : {}),
      });
    }
    if (changed) this.notify(view.name, status);
    return conditions;
  }

  /** The conditions a previous daemon left for a device, used once: at its first update. */
  private inheritedView(name: string): Pick<DeviceStatus, 'conditions'> | undefined {
    const conditions = this.inherited.get(name);
    if (!conditions) return undefined;
    this.inherited.delete(name);
    return { conditions: conditions.map((condition) => ({ ...condition })) };
  }

  forget(name: string): void {
    this.inherited.delete(name);
    this.history.delete(name);
    this.texts.delete(name);
    if (this.views.delete(name)) this.notify(name, undefined);
  }

  /** Every device's last evaluation, by name. */
  devices(): DeviceStatus[] {
    return [...this.views.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Told of each device whose view changed (undefined: forgotten), never of an
   * update that changed nothing (metrics, the view in /run); returns the
   * unsubscribe function.
   */
  subscribe(listener: DeviceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Blocks remapped since 24 hours ago, or since the daemon first saw the
   * device if that is later. A count that went down (a new spare, a reformat)
   * starts the history afresh.
   */
  private remapsLastDay(name: string, remapped: number, now: Date): number {
    const samples = this.history.get(name) ?? [];
    const last = samples[samples.length - 1];
    if (last && remapped < last.remapped) samples.length = 0;
    if (!last || remapped !== last.remapped || samples.length === 0)
      samples.push({ at: now.getTime(), remapped });
    const windowStart = now.getTime() - DAY_MS;
    // Keep the newest sample at or before the window's start: the count when the window began.
    while (samples.length > 1 && (samples[1]?.at ?? Infinity) <= windowStart) samples.shift();
    this.history.set(name, samples);
    return remapped - (samples[0]?.remapped ?? remapped);
  }

  private notify(name: string, status: DeviceStatus | undefined): void {
    for (const listener of [...this.listeners]) listener(name, status);
  }
}
