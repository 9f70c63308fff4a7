/**
 * A controller wired to a SimulatedKernel and an in-memory spec source, for
 * tests that run whole reconcile passes in milliseconds.
 */
import { SimulatedKernel } from '../../reconciler/kernel/simulated.js';
import type { KernelAdapter } from '../../reconciler/kernel/adapter.js';
import { Controller } from '../../reconciler/controller/controller.js';
import type { ControllerOptions, SpecSource } from '../../reconciler/controller/controller.js';
import type { DeviceSpec, Diagnostic, FileResult, LoadResult } from '../../reconciler/spec/index.js';
import { Writable } from 'node:stream';
import { createLogger, silentLogger } from '../../reconciler/log.js';
import type { AppliedStateStore } from '../../reconciler/controller/stateStore.js';
import type { Logger } from '../../reconciler/log.js';
import type { HealthSink } from '../../reconciler/health/monitor.js';
import { deviceSpec } from './builders.js';

export const MAIN_SECTORS = 65_536;
export const SPARE_SECTORS = 8_192;

/** Specs as the loader would return them; tests edit this between passes. */
export class MemorySpecs implements SpecSource {
  private readonly valid = new Map<string, DeviceSpec>();
  private readonly invalid = new Map<string, string[]>();
  diagnostics: Diagnostic[] = [];

  set(name: string, overrides: Partial<DeviceSpec> = {}): DeviceSpec {
    const spec = deviceSpec(name, overrides);
    this.valid.set(name, spec);
    this.invalid.delete(spec.source.file);
    return spec;
  }

  /** The device's file turns invalid (a typo, a half-written save): its spec disappears from the result. */
  breakFile(name: string, declared: string[] = [name]): void {
    const file = deviceSpec(name).source.file;
    this.valid.delete(name);
    this.invalid.set(file, declared);
  }

  delete(name: string): void {
    this.valid.delete(name);
    this.invalid.delete(deviceSpec(name).source.file);
  }

  load(): Promise<LoadResult> {
    const files: FileResult[] = [
      ...[...this.valid.values()].map((spec) => ({
        file: spec.source.file,
        status: 'valid' as const,
        devices: [spec.name],
      })),
      ...[...this.invalid.entries()].map(([file, devices]) => ({
        file,
        status: 'invalid' as const,
        devices,
      })),
    ];
    const brokenFiles: Diagnostic[] = [...this.invalid.keys()].map((file) => ({
      severity: 'error',
      code: 'yaml-syntax',
      message: 'broken on purpose',
      file,
    }));
    return Promise.resolve({
      devices: [...this.valid.values()].map((spec) => structuredClone(spec)),
      diagnostics: [...brokenFiles, ...this.diagnostics],
      files,
    });
  }
}

/** Register the backing devices the default spec of `name` points at. */
export function addBackingDevices(kernel: SimulatedKernel, name: string): void {
  const spec = deviceSpec(name);
  kernel.addBlockDevice(spec.mainDevice, MAIN_SECTORS);
  kernel.addBlockDevice(spec.spareDevice, SPARE_SECTORS);
}

export function newKernel(names: string[], options: { moduleLoaded?: boolean } = {}): SimulatedKernel {
  const kernel = new SimulatedKernel({
    moduleLoaded: options.moduleLoaded ?? true,
    batchWindowMs: 1,
    hangTimeoutMs: 2_000,
  });
  for (const name of names) addBackingDevices(kernel, name);
  return kernel;
}

export interface ControllerSettings {
  prune?: boolean;
  retryLimit?: number;
  operationTimeoutMs?: number;
  logger?: Logger;
  /** Applied state kept across controllers (a daemon restart, a reboot); default: a fresh one in memory. */
  stateStore?: AppliedStateStore;
  acceptDataLoss?: string[];
  waitPollMs?: number;
  health?: HealthSink;
  onDeviceReport?: ControllerOptions['onDeviceReport'];
}

export interface LogLine {
  level: string;
  message: string;
  device?: string;
  operation?: string;
  state?: string;
}

/** A JSON logger whose lines the test can read back. */
export function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n'))
        if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  return { logger: createLogger({ format: 'json', stream }), lines };
}

export function newController(
  kernel: KernelAdapter,
  specs: SpecSource,
  settings: ControllerSettings = {},
): Controller {
  return new Controller({
    kernel,
    specs,
    prune: settings.prune ?? false,
    backoff: { baseMs: 5, maxMs: 40 },
    logger: settings.logger ?? silentLogger(),
    retryLimit: settings.retryLimit ?? 5,
    operationTimeoutMs: settings.operationTimeoutMs ?? 1_000,
    ...(settings.stateStore ? { stateStore: settings.stateStore } : {}),
    ...(settings.acceptDataLoss ? { acceptDataLoss: new Set(settings.acceptDataLoss) } : {}),
    ...(settings.waitPollMs === undefined ? {} : { waitPollMs: settings.waitPollMs }),
    ...(settings.health ? { health: settings.health } : {}),
    ...(settings.onDeviceReport ? { onDeviceReport: settings.onDeviceReport } : {}),
  });
}

/** Mutating kernel calls so far (observations and inspections excluded). */
export function mutations(kernel: SimulatedKernel): number {
  const { create, load, suspend, resume, clearInactive, remove, loadModule } = kernel.calls;
  return create + load + suspend + resume + clearInactive + remove + loadModule;
}
