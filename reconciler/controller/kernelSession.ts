/**
 * The controller's single door to the kernel adapter. Device actors observe
 * concurrently; one `dmsetup` pass can serve all of them, but only if no
 * mutation started since that pass began — otherwise an actor could plan from
 * a picture that predates its own last operation and repeat it. Each mutation
 * therefore bumps an epoch, and a caller joins an observation in flight only
 * when it was started in the current epoch.
 *
 * A shared pass belongs to no single caller: it runs under its own abort
 * controller, aborted only when every caller waiting on it has aborted. A
 * caller whose signal aborts is answered at once with its signal's reason
 * and leaves the pass to the others, so one device's timeout never fails
 * (and backs off) every device that joined it.
 */
import type {
  BlockDeviceInfo,
  DesiredTable,
  KernelAdapter,
  KernelObservation,
  SpareMetadata,
} from '../kernel/adapter.js';

interface SharedObservation {
  epoch: number;
  observation: Promise<KernelObservation>;
  controller: AbortController;
  /** Callers still waiting for it; one without a signal never stops waiting. */
  waiting: number;
}

export class KernelSession {
  private epoch = 0;
  private inFlight: SharedObservation | undefined;
  private offered: { epoch: number; observation: KernelObservation } | undefined;

  constructor(readonly kernel: KernelAdapter) {}

  /**
   * Let callers use an observation that has just completed, as if they had
   * joined it while it ran (the controller offers the one its pass listed
   * the devices from, to the devices it then wakes): it is answered only
   * while no mutation has started since it was taken, and until withdrawn.
   */
  offer(observation: KernelObservation): void {
    this.offered = { epoch: this.epoch, observation };
  }

  withdraw(observation: KernelObservation): void {
    if (this.offered?.observation === observation) this.offered = undefined;
  }

  observe(signal?: AbortSignal): Promise<KernelObservation> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.offered?.epoch === this.epoch) return Promise.resolve(this.offered.observation);
    const shared = this.joinable() ?? this.startObservation();
    shared.waiting += 1;
    if (!signal) return shared.observation;
    return new Promise<KernelObservation>((resolve, reject) => {
      const leave = () => {
        shared.waiting -= 1;
        if (shared.waiting === 0) {
          if (this.inFlight === shared) this.inFlight = undefined;
          shared.controller.abort(abortReason(signal));
        }
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', leave, { once: true });
      shared.observation.then(
        (observation) => {
          signal.removeEventListener('abort', leave);
          resolve(observation);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', leave);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  private joinable(): SharedObservation | undefined {
    const shared = this.inFlight;
    return shared && shared.epoch === this.epoch && !shared.controller.signal.aborted ? shared : undefined;
  }

  private startObservation(): SharedObservation {
    const controller = new AbortController();
    const shared: SharedObservation = {
      epoch: this.epoch,
      observation: this.kernel.observe(controller.signal),
      controller,
      waiting: 0,
    };
    this.inFlight = shared;
    const clear = () => {
      if (this.inFlight === shared) this.inFlight = undefined;
    };
    shared.observation.then(clear, clear);
    return shared;
  }

  inspectBlockDevice(path: string, signal?: AbortSignal): Promise<BlockDeviceInfo | undefined> {
    return this.kernel.inspectBlockDevice(path, signal);
  }

  readSpareMetadata(path: string, signal?: AbortSignal): Promise<SpareMetadata> {
    return this.kernel.readSpareMetadata(path, signal);
  }

  loadModule(signal?: AbortSignal): Promise<void> {
    return this.mutate(() => this.kernel.loadModule(signal));
  }
  create(device: DesiredTable, signal?: AbortSignal): Promise<void> {
    return this.mutate(() => this.kernel.create(device, signal));
  }
  load(device: DesiredTable, signal?: AbortSignal): Promise<void> {
    return this.mutate(() => this.kernel.load(device, signal));
  }
  suspend(name: string, signal?: AbortSignal): Promise<void> {
    return this.mutate(() => this.kernel.suspend(name, signal));
  }
  resume(name: string, signal?: AbortSignal): Promise<void> {
    return this.mutate(() => this.kernel.resume(name, signal));
  }
  clearInactive(name: string, signal?: AbortSignal): Promise<void> {
    return this.mutate(() => this.kernel.clearInactive(name, signal));
  }
  remove(name: string, signal?: AbortSignal): Promise<void> {
    return this.mutate(() => this.kernel.remove(name, signal));
  }

  private async mutate(operation: () => Promise<void>): Promise<void> {
    this.epoch += 1;
    try {
      await operation();
    } finally {
      this.epoch += 1;
    }
  }
}

/** The signal's reason as an Error (a reason given as anything else is wrapped, never lost). */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(`aborted: ${String(reason)}`);
}
