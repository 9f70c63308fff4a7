/**
 * The controller's single door to the kernel adapter. Device actors observe
 * concurrently; one `dmsetup` pass can serve all of them, but only if no
 * mutation started since that pass began — otherwise an actor could plan from
 * a picture that predates its own last operation and repeat it. Each mutation
 * therefore bumps an epoch, and a caller joins an observation in flight only
 * when it was started in the current epoch.
 */
import type {
  BlockDeviceInfo,
  DesiredTable,
  KernelAdapter,
  KernelObservation,
  SpareMetadata,
} from '../kernel/adapter.js';

export class KernelSession {
  private epoch = 0;
  private inFlight: { epoch: number; observation: Promise<KernelObservation> } | undefined;

  constructor(readonly kernel: KernelAdapter) {}

  observe(signal?: AbortSignal): Promise<KernelObservation> {
    if (this.inFlight && this.inFlight.epoch === this.epoch) return this.inFlight.observation;
    const current = { epoch: this.epoch, observation: this.kernel.observe(signal) };
    this.inFlight = current;
    const clear = () => {
      if (this.inFlight === current) this.inFlight = undefined;
    };
    current.observation.then(clear, clear);
    return current.observation;
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
