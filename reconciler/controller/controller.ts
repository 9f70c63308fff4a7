/**
 * The level-triggered controller: one device actor per name it is
 * responsible for, each woken with only its identity and left to re-read the
 * spec and the kernel itself. Actors run concurrently and independently (a
 * device that fails backs off alone); operations on one device are serialized
 * by its machine. `reconcileAll` is the only entry point for change — watch
 * events, resync ticks, SIGHUP and `apply` all call it — and it is coalesced,
 * so a burst of triggers costs one extra pass at most.
 */
import { createActor } from 'xstate';
import type { Actor } from 'xstate';
import type { KernelAdapter, KernelObservation } from '../kernel/adapter.js';
import type { DeviceSpec, LoadResult } from '../spec/index.js';
import { isIoDiagnostic } from '../spec/diagnostics.js';
import type { Logger } from '../log.js';
import type { BackoffPolicy } from '../device/backoff.js';
import { SYSTEM_CLOCK } from '../device/machine.js';
import type { Clock, DeviceFailure, DeviceMachine } from '../device/machine.js';
import { KernelSession } from './kernelSession.js';
import { LastGoodSpecs } from './lastGood.js';
import { observeWorld } from './world.js';
import { observedDevice, plan, planDevice, plannedDeviceNames, specNamed } from './plan.js';
import type { DevicePlan, Operation, Plan, PlanInput } from './plan.js';
import { provideKernelEffects, withTimeout } from './effects.js';
import type { StepHook } from './effects.js';
import { nextRecord, recordWithCounts } from './appliedState.js';
import type { AppliedRead } from './appliedState.js';
import { MemoryStateStore } from './stateStore.js';
import type { AppliedStateStore } from './stateStore.js';
import type { RemapStatus } from '../kernel/adapter.js';
import type { HealthSink } from '../health/monitor.js';

/** Where specs come from (the config dir in production; memory in tests). */
export interface SpecSource {
  load(): Promise<LoadResult>;
}

export interface ControllerOptions {
  kernel: KernelAdapter;
  specs: SpecSource;
  prune: boolean;
  backoff: BackoffPolicy;
  logger: Logger;
  /** Retries after a device's first failure before `converge` gives up on it; the daemon never gives up. */
  retryLimit?: number;
  /** Upper bound of one kernel operation of one device (default 60 s). */
  operationTimeoutMs?: number;
  afterStep?: StepHook;
  /** Where what was applied to each device is kept across restarts (default: in memory only). */
  stateStore?: AppliedStateStore;
  /** Read the applied state but never write it (`plan`). */
  readOnlyState?: boolean;
  /** Devices whose remapped blocks on their previous spare the operator gives up (`--accept-data-loss`). */
  acceptDataLoss?: ReadonlySet<string>;
  /** How often a device waiting for a backing disk looks for it (default 1 s). */
  waitPollMs?: number;
  /** Where retry deadlines are read from (default: the wall clock). */
  clock?: Clock;
  /** Told each device's phase and target status every time it settles (the health rules), and of its end. */
  health?: HealthSink;
  /** Told every report of every device as its machine moves (operation metrics). */
  onDeviceReport?: (name: string, report: DeviceReport) => void;
}

export const DEFAULT_OPERATION_TIMEOUT_MS = 60_000;
/** How often a device waiting for a backing disk looks for it. */
export const DEFAULT_WAIT_POLL_MS = 1_000;
const WAITING_STATE = 'waitingForDevices';

export interface DeviceReport {
  name: string;
  /** Machine state, e.g. "active" or "failed.backingOff". */
  state: string;
  settled: boolean;
  /** Settled in a state where the device is as declared (or deliberately left alone). */
  converged: boolean;
  operation: Operation | undefined;
  failure: DeviceFailure | undefined;
  failures: number;
  nextAttemptAt: number | undefined;
}

export interface ConvergeResult {
  reports: DeviceReport[];
  /** The timeout passed with a device still at work. */
  timedOut: boolean;
  /** Devices whose disks did not appear within their deviceTimeout: reported, not started. */
  gaveUpWaiting: { name: string; nofail: boolean; deviceTimeoutMs: number }[];
}

type DeviceActor = Actor<DeviceMachine>;

const INSECURE_PERMISSIONS = 'insecure-permissions';

export class Controller {
  private readonly session: KernelSession;
  private readonly lastGood = new LastGoodSpecs();
  private readonly stateStore: AppliedStateStore;
  private readonly clock: Clock;
  /** Applied-state records by device, read once at the first load and written through. */
  private applied: Map<string, AppliedRead> | undefined;
  /** Per spare path, the format id its superblock had when last read before a load (null: blank). */
  private readonly formatSeen = new Map<string, string | null>();
  /** The last save error logged per device, so a failing state dir is reported once, not every pass. */
  private readonly saveErrors = new Map<string, string>();
  private readonly actors = new Map<string, DeviceActor>();
  /** Bumped whenever a device actor is added or dropped. */
  private actorsVersion = 0;
  /** Per device, the target status its last round observed (undefined: not running, or unreadable). */
  private readonly remapSeen = new Map<string, RemapStatus | undefined>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly listeners = new Set<() => void>();
  private readonly machine: DeviceMachine;
  private loaded: LoadResult = { devices: [], diagnostics: [], files: [] };
  /** The loaded specs by name (a device's lookups cost the same whatever the number of devices). */
  private specsByName = new Map<string, DeviceSpec>();
  /** The last good specs as the planner reads them, made again only when they change (not per device). */
  private lastGoodView: ReadonlyMap<string, DeviceSpec> | undefined;
  private fingerprints = new Map<string, string>();
  private refusal: string | undefined;
  private pass: Promise<void> | undefined;
  private passRequested = false;
  private stopping = false;

  constructor(private readonly options: ControllerOptions) {
    this.session = new KernelSession(options.kernel);
    this.stateStore = options.stateStore ?? new MemoryStateStore();
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.machine = provideKernelEffects(this.session, (name, signal) => this.planOne(name, signal), {
      timeoutMs: options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS,
      afterStep: options.afterStep,
      presuspended: (name, status) => this.recordPresuspend(name, status),
      clock: this.clock,
    });
  }

  /** Applied-state records that could not be read, as "file: reason" (reported, never acted on). */
  get unreadableState(): string[] {
    return [...(this.applied?.values() ?? [])].flatMap((read) =>
      read.state === 'corrupt' ? [`${read.file}: ${read.reason}`] : [],
    );
  }

  /** The diagnostics of the last spec load. */
  get diagnostics(): LoadResult['diagnostics'] {
    return this.loaded.diagnostics;
  }

  /** Why the controller refuses to act at all (unsafe or unreadable config), if it does. */
  get refusalReason(): string | undefined {
    return this.refusal;
  }

  /** Re-read the specs; returns the names whose declaration changed since the last load. */
  async loadSpecs(): Promise<Set<string>> {
    await this.loadAppliedState();
    this.loaded = await this.options.specs.load();
    this.specsByName = new Map(this.loaded.devices.map((spec) => [spec.name, spec] as const));
    this.refusal = refusalOf(this.loaded);
    if (this.refusal) return new Set();
    this.lastGood.record(this.loaded.devices);
    this.lastGoodView = undefined;
    const next = fingerprintsOf(this.loaded);
    const changed = new Set<string>();
    for (const name of new Set([...next.keys(), ...this.fingerprints.keys()])) {
      if (next.get(name) !== this.fingerprints.get(name)) changed.add(name);
    }
    this.fingerprints = next;
    return changed;
  }

  /**
   * Read the applied-state records once: they seed the last good specs, so a
   * spec deleted while the daemon was down still has its removalPolicy, and
   * the planner refuses a new spare for a device whose old one holds remaps.
   */
  private async loadAppliedState(): Promise<void> {
    if (this.applied) return;
    try {
      this.applied = await this.stateStore.loadAll();
    } catch (error) {
      // Unreadable as a whole: nothing is known, and nothing is assumed either way.
      this.options.logger.error(
        `cannot read the applied state in ${this.stateStore.location}: ${String(error)}`,
        {
          operation: 'loadState',
        },
      );
      this.applied = new Map();
    }
    for (const read of this.applied.values()) {
      if (read.state === 'ok') {
        this.lastGood.record([read.record.spec]);
        this.lastGoodView = undefined;
      } else
        this.options.logger.error(`applied state ${read.file} is unreadable: ${read.reason}`, {
          operation: 'loadState',
        });
    }
  }

  /** The whole plan from the last loaded specs and a fresh observation (what `dm-remap plan` prints). */
  async plan(signal?: AbortSignal): Promise<Plan> {
    return plan(await this.planInput(this.loaded.devices, signal));
  }

  /** The whole plan and the observation it was made from (`dm-remap status` reads the target status there). */
  async planAndInput(signal?: AbortSignal): Promise<{ plan: Plan; input: PlanInput }> {
    const input = await this.planInput(this.loaded.devices, signal);
    return { plan: plan(input), input };
  }

  /** Ask for a pass over every device; concurrent requests share one follow-up pass. */
  reconcileAll(): Promise<void> {
    if (this.pass) {
      this.passRequested = true;
      return this.pass;
    }
    this.pass = this.runPasses().finally(() => {
      this.pass = undefined;
    });
    return this.pass;
  }

  /** Wait until `done` holds for every device report, or the timeout passes (false). */
  waitUntil(done: (report: DeviceReport) => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let finished = false;
      let checkQueued = false;
      // Every step of every device notifies. Looking at all devices on each
      // would make a pass quadratic; instead the device that was not done
      // last time is looked at first, and a scan goes on from it (devices
      // settle roughly in order), so each step costs about one device. Only a
      // scan that finds every device done, in one go, finishes.
      let order: [string, DeviceActor][] = [];
      let orderOf = -1;
      let cursor = 0;
      const check = () => {
        checkQueued = false;
        if (finished || this.pass !== undefined) return;
        if (orderOf !== this.actorsVersion) {
          order = [...this.actors];
          orderOf = this.actorsVersion;
          cursor = 0;
        }
        for (let looked = 0; looked < order.length; looked += 1) {
          const index = (cursor + looked) % order.length;
          const [name, actor] = order[index]!;
          if (!done(reportOf(name, actor))) {
            cursor = index;
            return;
          }
        }
        finish(true);
      };
      // Steps made in one burst of promise callbacks are looked at once, before any timer runs.
      const checkSoon = () => {
        if (checkQueued) return;
        checkQueued = true;
        queueMicrotask(check);
      };
      const finish = (result: boolean) => {
        finished = true;
        clearTimeout(timer);
        this.listeners.delete(checkSoon);
        resolve(result);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.listeners.add(checkSoon);
      this.pass?.then(checkSoon, checkSoon);
      check();
    });
  }

  /**
   * One-shot convergence for `apply`: every device settled and out of
   * retries, or the timeout. A device waiting for a backing disk is waited
   * for (at boot, disks appear while apply runs) up to its spec's
   * deviceTimeout, then given up on while the others carry on; it is listed
   * in `gaveUpWaiting`, and left waiting (never started without its disks).
   */
  async converge(timeoutMs: number): Promise<ConvergeResult> {
    const started = performance.now();
    await this.reconcileAll();
    // Read from the specs as loaded now: a pass may have re-read them.
    const specOf = (name: string) => this.loaded.devices.find((spec) => spec.name === name);
    const waitedOut = (name: string) =>
      performance.now() - started >= (specOf(name)?.deviceTimeoutMs ?? Infinity);
    const limit = this.options.retryLimit ?? Infinity;
    const done = (report: DeviceReport) =>
      report.settled &&
      !retryPending(report, limit) &&
      (report.state !== WAITING_STATE || waitedOut(report.name));
    let finished = false;
    for (let now = performance.now(); !finished && now - started < timeoutMs; now = performance.now()) {
      // Look again when the next device's wait limit passes: nothing else wakes us then.
      const limits = this.loaded.devices.map((spec) => spec.deviceTimeoutMs);
      const nextLimit = Math.min(...limits.filter((ms) => ms > now - started));
      finished = await this.waitUntil(done, Math.min(timeoutMs, nextLimit) - (now - started));
    }
    const reports = this.reports();
    const gaveUpWaiting = reports
      .filter((report) => report.state === WAITING_STATE && waitedOut(report.name))
      .map(({ name }) => ({
        name,
        nofail: specOf(name)?.nofail ?? false,
        deviceTimeoutMs: specOf(name)?.deviceTimeoutMs ?? 0,
      }));
    return { reports, timedOut: !finished, gaveUpWaiting };
  }

  reports(): DeviceReport[] {
    return [...this.actors.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, actor]) => reportOf(name, actor));
  }

  /** Graceful stop: no new work, in-flight operations finish (a reload always resumes), then actors stop. */
  async stop(graceMs: number): Promise<boolean> {
    this.stopping = true;
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    await this.pass?.catch(() => undefined);
    const settled = await this.waitUntil((report) => report.settled, graceMs);
    for (const actor of this.actors.values()) actor.stop();
    this.actors.clear();
    this.actorsVersion += 1;
    return settled;
  }

  private async runPasses(): Promise<void> {
    do {
      this.passRequested = false;
      await this.passOnce();
    } while (this.passRequested && !this.stopping);
  }

  private async passOnce(): Promise<void> {
    if (this.stopping) return;
    const changed = await this.loadSpecs();
    if (this.refusal) {
      this.options.logger.error(`not acting on any device: ${this.refusal}`, { operation: 'loadSpecs' });
      return;
    }
    const { names, observation } = await this.namesToReconcile();
    // The devices woken now plan from the observation the names came from (one
    // observation per pass, not two) unless they mutate first: the session
    // answers it only until the first mutation, and only while they start.
    if (observation) this.session.offer(observation);
    const now = this.clock.now();
    try {
      for (const name of new Set([...names, ...this.actors.keys()])) {
        const actor = this.actors.get(name);
        if (!actor) this.spawn(name);
        else actor.send({ type: changed.has(name) ? 'device.specChanged' : 'device.reconcile', now });
      }
    } finally {
      if (observation) setImmediate(() => this.session.withdraw(observation));
    }
  }

  /**
   * Declared names plus owned devices the kernel shows. When the kernel cannot
   * be observed, the declared devices are still woken (each observes and
   * backs off on its own) and undeclared ones wait for the next pass.
   */
  private async namesToReconcile(): Promise<{ names: string[]; observation?: KernelObservation }> {
    const declared = { ...this.loaded, specs: this.loaded.devices };
    try {
      const timeoutMs = this.options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
      const observation = await withTimeout('observe', new AbortController().signal, timeoutMs, (signal) =>
        this.session.observe(signal),
      );
      return { names: plannedDeviceNames({ ...declared, observation }), observation };
    } catch (error) {
      this.options.logger.warn(`cannot observe the kernel: ${String(error)}`, { operation: 'observe' });
      return {
        names: plannedDeviceNames({ ...declared, observation: { moduleLoaded: false, devices: [] } }),
      };
    }
  }

  private spawn(name: string): void {
    const actor = createActor(this.machine, { input: { name, backoff: this.options.backoff } });
    const log = this.options.logger.child({ device: name });
    const transitions = new TransitionLog(log, this.clock);
    this.actors.set(name, actor);
    this.actorsVersion += 1;
    actor.subscribe({
      next: (snapshot) => {
        const report = reportOf(name, actor);
        transitions.record(report, snapshot.context.operation);
        if (report.settled) this.reportHealth(name, report);
        this.options.onDeviceReport?.(name, report);
        this.scheduleRetry(name, report);
        if (snapshot.status === 'done') this.retire(name, actor);
        this.notify();
      },
      error: (error) => {
        log.error(`device machine stopped on an internal error: ${String(error)}`, { operation: 'internal' });
        this.retire(name, actor);
        this.notify();
      },
    });
    actor.start();
  }

  /**
   * A removed device's actor is dropped; its last good spec and applied state
   * go too once nothing declares it (a device removed by `state: absent` keeps
   * them: its spare still holds its remaps).
   */
  private retire(name: string, actor: DeviceActor): void {
    if (this.actors.get(name) !== actor) return;
    this.actors.delete(name);
    this.actorsVersion += 1;
    this.remapSeen.delete(name);
    this.options.health?.forget(name);
    if (this.specsByName.has(name)) return;
    this.lastGood.forget(name);
    this.lastGoodView = undefined;
    if (this.applied?.has(name) && !this.options.readOnlyState) {
      this.applied.delete(name);
      this.stateStore.forget(name).catch((error: unknown) => {
        this.options.logger.warn(`cannot forget the applied state of ${name}: ${String(error)}`, {
          device: name,
          operation: 'saveState',
        });
      });
    }
  }

  private scheduleRetry(name: string, report: DeviceReport): void {
    const existing = this.retryTimers.get(name);
    if (existing) clearTimeout(existing);
    this.retryTimers.delete(name);
    if (this.stopping) return;
    if (report.state === WAITING_STATE) {
      this.watchForDevices(name);
      return;
    }
    if (!retryPending(report, this.options.retryLimit ?? Infinity)) return;
    const delay = Math.max(0, (report.nextAttemptAt ?? 0) - this.clock.now());
    const timer = setTimeout(() => {
      this.retryTimers.delete(name);
      this.actors.get(name)?.send({ type: 'device.reconcile', now: this.clock.now() });
    }, delay);
    this.retryTimers.set(name, timer);
  }

  /**
   * A device waits for a backing disk that does not exist yet (boot, a late
   * or hot-plugged disk): look for its paths every `waitPollMs` — a stat, no
   * dmsetup — and wake the device the moment they all exist, without waiting
   * for the next resync.
   */
  private watchForDevices(name: string): void {
    const pollMs = this.options.waitPollMs ?? DEFAULT_WAIT_POLL_MS;
    const timer = setTimeout(() => {
      this.retryTimers.delete(name);
      const spec = this.specsByName.get(name);
      if (!spec || this.stopping) return;
      const paths = [spec.mainDevice, spec.spareDevice];
      Promise.all(paths.map((path) => this.session.inspectBlockDevice(path)))
        .then((found) => {
          if (this.stopping || this.retryTimers.has(name)) return;
          if (found.every((info) => info !== undefined)) {
            this.actors.get(name)?.send({ type: 'device.reconcile', now: this.clock.now() });
          } else {
            this.watchForDevices(name);
          }
        })
        .catch(() => this.watchForDevices(name));
    }, pollMs);
    this.retryTimers.set(name, timer);
  }

  private reportHealth(name: string, report: DeviceReport): void {
    const health = this.options.health;
    if (!health || report.state === 'removed') return;
    const spec = this.specsByName.get(name) ?? this.lastGood.get(name);
    const remap = this.remapSeen.get(name);
    health.update({
      name,
      phase: report.state,
      ...(report.operation ? { operation: report.operation } : {}),
      ...(report.failure ? { failure: report.failure } : {}),
      ...(spec ? { spec } : {}),
      ...(remap ? { remap } : {}),
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private async planOne(name: string, signal: AbortSignal): Promise<DevicePlan> {
    const spec = this.specsByName.get(name);
    const input = await this.planInput(spec ? [spec] : [], signal);
    const devicePlan = planDevice(name, input);
    const observed = observedDevice(input.observation, name);
    this.remapSeen.set(name, observed?.owned ? observed.remap?.status : undefined);
    // The config turned untrustworthy after this device's round began (a retry
    // timer, an in-flight round): what it would plan from it must not be done.
    const refusal = this.refusal;
    if (refusal) return { ...devicePlan, operations: [{ kind: 'hold', reason: `not acting: ${refusal}` }] };
    await this.recordApplied(name, input, devicePlan);
    return devicePlan;
  }

  /**
   * Keep what this observation shows of a live device: the spec once the
   * device converged to it, and its spare's remapped and pending counts on
   * every pass that they changed. Written before the round acts, so a crash
   * or a removal right after still finds it.
   */
  private async recordApplied(name: string, input: PlanInput, devicePlan: DevicePlan): Promise<void> {
    const spec = specNamed(input.specs, name);
    const seen = spec ? input.spareMetadata.get(spec.spareDevice) : undefined;
    if (spec && seen) {
      this.formatSeen.set(
        spec.spareDevice,
        seen.state === 'formatted' ? (seen.superblock.formatId ?? null) : null,
      );
    }
    const device = observedDevice(input.observation, name);
    if (!device || this.options.readOnlyState || !this.applied) return;
    const previousRead = this.applied.get(name);
    const previous = previousRead?.state === 'ok' ? previousRead.record : undefined;
    const record = nextRecord({
      previous,
      spec,
      converged: devicePlan.operations.length === 0,
      device,
      spare: spec ? input.blockDevices.get(spec.spareDevice) : undefined,
      formatIdBeforeLoad: spec ? this.formatSeen.get(spec.spareDevice) : undefined,
      now: new Date(this.clock.now()),
    });
    if (record) await this.saveRecord(record);
  }

  /** The status read while a device is suspended for removal: its last counts before it goes. */
  private async recordPresuspend(name: string, status: RemapStatus | undefined): Promise<void> {
    const log = this.options.logger.child({ device: name });
    if (status === undefined) {
      log.warn('removing it: its status could not be read after suspending it', { operation: 'presuspend' });
    } else if (status.pendingBlocks > 0) {
      log.warn(
        `removing it with ${status.pendingBlocks} pending blocks (main could not read them and no write has replaced them)`,
        { operation: 'presuspend' },
      );
    }
    const read = this.applied?.get(name);
    if (read?.state !== 'ok' || this.options.readOnlyState) return;
    const record = recordWithCounts(read.record, status, new Date(this.clock.now()));
    if (record) await this.saveRecord(record);
  }

  /**
   * Write a record. A failure (a read-only or full /var at early boot) is
   * logged, once per device and message, and does not stop the device: the
   * kernel and the spare still hold the truth, and the write is tried again on
   * the next pass that finds the record out of date.
   */
  private async saveRecord(record: NonNullable<ReturnType<typeof nextRecord>>): Promise<void> {
    try {
      await this.stateStore.write(record);
    } catch (error) {
      const message = `cannot save the applied state of ${record.name} in ${this.stateStore.location}: ${String(error)}`;
      if (this.saveErrors.get(record.name) !== message) {
        this.saveErrors.set(record.name, message);
        this.options.logger.error(message, { device: record.name, operation: 'saveState' });
      }
      return;
    }
    this.saveErrors.delete(record.name);
    this.applied?.set(record.name, { state: 'ok', record });
  }

  private async planInput(inspected: readonly DeviceSpec[], signal?: AbortSignal): Promise<PlanInput> {
    const previousSpares = new Map(
      inspected.flatMap((spec) => {
        const read = this.applied?.get(spec.name);
        return read?.state === 'ok' && read.record.spare.path !== spec.spareDevice
          ? [[spec.name, read.record.spare.path] as const]
          : [];
      }),
    );
    const world = await observeWorld(this.session, inspected, signal, previousSpares);
    return {
      specs: this.loaded.devices,
      files: this.loaded.files,
      lastGood: (this.lastGoodView ??= this.lastGood.snapshot()),
      observation: world.observation,
      blockDevices: world.blockDevices,
      spareMetadata: world.spareMetadata,
      applied: this.applied ?? new Map(),
      options: {
        prune: this.options.prune,
        ...(this.options.acceptDataLoss ? { acceptDataLoss: this.options.acceptDataLoss } : {}),
      },
    };
  }
}

/** Config that must not be acted on at all: unreadable (a missing dir must not read as "delete everything") or unsafe. */
function refusalOf(loaded: LoadResult): string | undefined {
  const blocking = loaded.diagnostics.find(
    (d) => isIoDiagnostic(d) || (d.severity === 'error' && d.code === INSECURE_PERMISSIONS),
  );
  return blocking ? `${blocking.file}: ${blocking.message}` : undefined;
}

/** What counts as "the declaration changed" for a device: its spec minus where it was written, or its file breaking. */
function fingerprintsOf(loaded: LoadResult): Map<string, string> {
  const fingerprints = new Map<string, string>();
  for (const file of loaded.files) {
    if (file.status === 'invalid')
      for (const name of file.devices) fingerprints.set(name, `invalid:${file.file}`);
  }
  for (const spec of loaded.devices) {
    // Moving a spec to another file is not a change of the device.
    fingerprints.set(spec.name, JSON.stringify({ ...spec, source: undefined }));
  }
  return fingerprints;
}

function retryPending(report: DeviceReport, retryLimit: number): boolean {
  return report.state === 'failed.backingOff' && report.failures <= retryLimit;
}

function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  return Object.entries(value as Record<string, unknown>)
    .map(([parent, child]) => `${parent}.${stateName(child)}`)
    .join(',');
}

function reportOf(name: string, actor: DeviceActor): DeviceReport {
  const snapshot = actor.getSnapshot();
  const settled = snapshot.hasTag('settled');
  return {
    name,
    state: stateName(snapshot.value),
    settled,
    converged: settled && !snapshot.hasTag('unconverged'),
    operation: snapshot.context.operation,
    failure: snapshot.context.lastFailure,
    failures: snapshot.context.failures,
    nextAttemptAt: snapshot.context.nextAttemptAt,
  };
}

/**
 * Logs what an operator needs: every action and every failure, and a settled
 * state only when it differs from the last one, so a resync that finds
 * nothing to do adds nothing at info level.
 */
class TransitionLog {
  private lastState = '';
  private lastSettled = '';
  /** An action or failure was logged since the last settled state: the next one is news even if the same. */
  private actedSinceSettled = false;

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  record(report: DeviceReport, operation: Operation | undefined): void {
    if (report.state === this.lastState) return;
    this.lastState = report.state;
    const meta = { operation: operation?.kind ?? 'none', state: report.state };
    const news = report.state !== this.lastSettled || this.actedSinceSettled;
    if (report.settled) {
      this.lastSettled = report.state;
      this.actedSinceSettled = false;
    } else if (report.state !== 'observing') {
      this.actedSinceSettled = true;
    }

    if (report.state === 'failed.backingOff' && report.failure) {
      const { during, code, message } = report.failure;
      const retryIn = Math.max(0, (report.nextAttemptAt ?? 0) - this.clock.now());
      this.log.warn(`${during} failed (${code}): ${message}; retry in ${retryIn} ms`, {
        ...meta,
        failures: report.failures,
      });
    } else if (report.state === 'observing') {
      this.log.debug('observing', { ...meta, operation: 'observe' });
    } else if (report.settled) {
      const why = operation ? `: ${operation.reason}` : '';
      const level = !news ? 'debug' : report.state === 'failed.refused' ? 'error' : 'info';
      this.log.log(level, `${report.state}${why}`, meta);
    } else {
      this.log.info(`${report.state}: ${operation?.reason ?? ''}`, meta);
      // What the operator should know about an action that still goes ahead (e.g. no main_id protection).
      if (operation && 'warning' in operation && operation.warning !== undefined) {
        this.log.warn(`${report.state}: ${operation.warning}`, meta);
      }
    }
  }
}
