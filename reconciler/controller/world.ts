/**
 * Reads what the planner needs: the kernel (one batched observation) and the
 * backing block devices the specs name. Only the devices being planned are
 * inspected, so one device's reconcile does not stat every disk.
 */
import type { BlockDeviceInfo, KernelObservation } from '../kernel/adapter.js';
import type { DeviceSpec } from '../spec/index.js';
import type { KernelSession } from './kernelSession.js';

export interface ObservedWorld {
  observation: KernelObservation;
  blockDevices: Map<string, BlockDeviceInfo | undefined>;
}

export async function observeWorld(
  session: KernelSession,
  specs: readonly DeviceSpec[],
  signal?: AbortSignal,
): Promise<ObservedWorld> {
  const paths = [...new Set(specs.flatMap((spec) => [spec.mainDevice, spec.spareDevice]))];
  const [observation, infos] = await Promise.all([
    session.observe(signal),
    Promise.all(paths.map((path) => session.inspectBlockDevice(path, signal))),
  ]);
  const blockDevices = new Map(paths.map((path, index) => [path, infos[index]] as const));
  return { observation, blockDevices };
}
