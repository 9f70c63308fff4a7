/**
 * Wraps any kernel adapter so a test can make chosen calls fail (optionally
 * for one device only, a given number of times) or hang until aborted, and
 * can see every call made. Used to show that one device's failures back off
 * alone and never stall the others.
 */
import { KernelError } from '../../reconciler/kernel/adapter.js';
import type {
  BlockDeviceInfo,
  DesiredTable,
  KernelAdapter,
  KernelObservation,
} from '../../reconciler/kernel/adapter.js';

export type KernelMethod = Exclude<keyof KernelAdapter, never>;

interface Fault {
  method: KernelMethod;
  device: string | undefined;
  remaining: number;
  mode: 'fail' | 'hang';
  code: string;
}

export interface KernelCall {
  method: KernelMethod;
  device: string | undefined;
}

export class FaultyKernel implements KernelAdapter {
  readonly calls: KernelCall[] = [];
  private faults: Fault[] = [];

  constructor(private readonly inner: KernelAdapter) {}

  /** The next `times` calls of `method` (for `device`, when given) reject with a KernelError of `code`. */
  fail(method: KernelMethod, options: { device?: string; times?: number; code?: string } = {}): this {
    this.faults.push({
      method,
      device: options.device,
      remaining: options.times ?? 1,
      mode: 'fail',
      code: options.code ?? 'EIO',
    });
    return this;
  }

  /** The next `times` calls of `method` never settle until their signal aborts (a hung dmsetup). */
  hang(method: KernelMethod, options: { device?: string; times?: number } = {}): this {
    this.faults.push({
      method,
      device: options.device,
      remaining: options.times ?? 1,
      mode: 'hang',
      code: 'ETIMEDOUT',
    });
    return this;
  }

  clearFaults(): void {
    this.faults = [];
  }

  callsOf(method: KernelMethod, device?: string): number {
    return this.calls.filter(
      (call) => call.method === method && (device === undefined || call.device === device),
    ).length;
  }

  observe(signal?: AbortSignal): Promise<KernelObservation> {
    return this.call('observe', undefined, signal, () => this.inner.observe(signal));
  }
  inspectBlockDevice(path: string, signal?: AbortSignal): Promise<BlockDeviceInfo | undefined> {
    return this.call('inspectBlockDevice', path, signal, () => this.inner.inspectBlockDevice(path, signal));
  }
  loadModule(signal?: AbortSignal): Promise<void> {
    return this.call('loadModule', undefined, signal, () => this.inner.loadModule(signal));
  }
  create(device: DesiredTable, signal?: AbortSignal): Promise<void> {
    return this.call('create', device.name, signal, () => this.inner.create(device, signal));
  }
  load(device: DesiredTable, signal?: AbortSignal): Promise<void> {
    return this.call('load', device.name, signal, () => this.inner.load(device, signal));
  }
  suspend(name: string, signal?: AbortSignal): Promise<void> {
    return this.call('suspend', name, signal, () => this.inner.suspend(name, signal));
  }
  resume(name: string, signal?: AbortSignal): Promise<void> {
    return this.call('resume', name, signal, () => this.inner.resume(name, signal));
  }
  clearInactive(name: string, signal?: AbortSignal): Promise<void> {
    return this.call('clearInactive', name, signal, () => this.inner.clearInactive(name, signal));
  }
  remove(name: string, signal?: AbortSignal): Promise<void> {
    return this.call('remove', name, signal, () => this.inner.remove(name, signal));
  }
  message(name: string, args: string[], signal?: AbortSignal): Promise<string> {
    return this.call('message', name, signal, () => this.inner.message(name, args, signal));
  }

  private call<T>(
    method: KernelMethod,
    device: string | undefined,
    signal: AbortSignal | undefined,
    run: () => Promise<T>,
  ): Promise<T> {
    this.calls.push({ method, device });
    const fault = this.faults.find(
      (candidate) =>
        candidate.method === method &&
        candidate.remaining > 0 &&
        (candidate.device === undefined || candidate.device === device),
    );
    if (!fault) return run();
    fault.remaining -= 1;
    if (fault.mode === 'fail') {
      return Promise.reject(
        new KernelError(`injected ${fault.code} on ${method}`, method, device, fault.code),
      );
    }
    return new Promise<T>((_resolve, reject) => {
      const abort = () => reject(new KernelError(`${method} aborted`, method, device, 'ETIMEDOUT'));
      if (signal?.aborted) abort();
      else signal?.addEventListener('abort', abort, { once: true });
    });
  }
}
