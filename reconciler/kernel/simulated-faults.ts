/**
 * Failures on demand for the simulated kernel: make any adapter method fail
 * with a chosen code, or hang until its caller aborts or a timeout passes,
 * once or N times; "crash" (throw SimulatedCrash) at an exact step, leaving
 * the kernel state exactly as far as it got — what a killed reconciler leaves;
 * or make a device's target print a status the reconciler cannot parse.
 */
import { KernelError } from './adapter.js';
import { abortedError, timedOutError } from './errors.js';

export type SimulatedOperation =
  | 'observe'
  | 'inspectBlockDevice'
  | 'readSpareMetadata'
  | 'loadModule'
  | 'create'
  | 'load'
  | 'suspend'
  | 'resume'
  | 'clearInactive'
  | 'remove'
  | 'message'
  | 'setUuid';

export interface FaultSpec {
  /** KernelError code to fail with (default 'EIO'). Ignored when `hang` is set. */
  code?: string;
  message?: string;
  /** Never answer: settle only when the caller's signal aborts (ECANCELED) or the simulator's timeout passes (ETIMEDOUT). */
  hang?: boolean;
  /** How many calls this fault hits before it is spent (default 1; Infinity for always). */
  times?: number;
  /** Only calls about this device name (default: any call of the operation). */
  device?: string;
}

/**
 * Where a crash can be placed. `before`/`after` exist for every operation
 * (`after` = the kernel did it but the caller never heard back); create also
 * stops between its steps: `afterCreate` (device exists, no table) and
 * `afterLoad` (table in the inactive slot, never resumed).
 */
export type CrashStep = 'before' | 'after' | 'afterCreate' | 'afterLoad';

/** Thrown at a crash point. Not a KernelError: it stands for the process dying, not the kernel refusing. */
export class SimulatedCrash extends Error {
  override name = 'SimulatedCrash';
  constructor(
    readonly operation: SimulatedOperation,
    readonly step: CrashStep,
    readonly device?: string,
  ) {
    super(`simulated crash at ${operation}.${step}${device === undefined ? '' : ` (${device})`}`);
  }
}

interface ArmedFault extends FaultSpec {
  operation: SimulatedOperation;
  remaining: number;
}

interface ArmedCrash {
  operation: SimulatedOperation;
  step: CrashStep;
  device?: string;
}

export class FaultPlan {
  private faults: ArmedFault[] = [];
  private crashes: ArmedCrash[] = [];
  private garbledStatuses = new Map<string, string>();

  constructor(private readonly hangTimeoutMs: () => number) {}

  fail(operation: SimulatedOperation, spec: FaultSpec = {}): void {
    this.faults.push({ ...spec, operation, remaining: spec.times ?? 1 });
  }

  crashAt(operation: SimulatedOperation, step: CrashStep, device?: string): void {
    this.crashes.push(device === undefined ? { operation, step } : { operation, step, device });
  }

  /**
   * From now on the remap target of `device` prints `printed` as its status
   * args, as a module this reconciler does not understand would (until clear()).
   */
  garbleStatus(device: string, printed: string): void {
    this.garbledStatuses.set(device, printed);
  }

  /** The status args garbleStatus() set for `device`, if any. */
  garbledStatus(device: string): string | undefined {
    return this.garbledStatuses.get(device);
  }

  /** Forget every armed fault and crash, and every garbled status. */
  clear(): void {
    this.faults = [];
    this.crashes = [];
    this.garbledStatuses.clear();
  }

  /**
   * Faults and crashes still armed (a test can assert its fault was actually
   * hit). Garbled statuses never wear off, so they are not counted.
   */
  get armed(): number {
    return this.faults.length + this.crashes.length;
  }

  /** Called at the entry of an operation: fails, hangs, or returns to let it proceed. */
  async enter(
    operation: SimulatedOperation,
    device: string | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    this.crashIfArmed(operation, 'before', device);
    const fault = this.faults.find(
      (candidate) =>
        candidate.operation === operation && (candidate.device === undefined || candidate.device === device),
    );
    if (!fault) return;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((candidate) => candidate !== fault);
    if (fault.hang) await this.hang(operation, device, signal);
    const code = fault.code ?? 'EIO';
    throw new KernelError(
      fault.message ?? `${operation}${device === undefined ? '' : ` ${device}`}: injected ${code}`,
      operation,
      device,
      code,
    );
  }

  /** Throws SimulatedCrash when a crash is armed for this exact point (each crash fires once). */
  crashIfArmed(operation: SimulatedOperation, step: CrashStep, device: string | undefined): void {
    const crash = this.crashes.find(
      (candidate) =>
        candidate.operation === operation &&
        candidate.step === step &&
        (candidate.device === undefined || candidate.device === device),
    );
    if (!crash) return;
    this.crashes = this.crashes.filter((candidate) => candidate !== crash);
    throw new SimulatedCrash(operation, step, device);
  }

  private hang(
    operation: SimulatedOperation,
    device: string | undefined,
    signal?: AbortSignal,
  ): Promise<never> {
    const timeoutMs = this.hangTimeoutMs();
    return new Promise<never>((_resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortedError(operation, device));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        reject(timedOutError(operation, device, timeoutMs));
      }, timeoutMs);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
