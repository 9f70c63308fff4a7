/**
 * Reads what the planner needs: the kernel (one batched observation), the
 * backing block devices the specs name, and what the superblocks say of each
 * spare that a new table would open (a device not live yet, or one whose spec
 * names another spare): its main_id must be chosen first; and of the spare a
 * device last ran on when its spec names another (how many remaps it holds). Only the devices
 * being planned are inspected, so one device's reconcile does not stat every
 * disk, and the spare a running device uses is never read.
 */
import type { BlockDeviceInfo, KernelObservation, SpareMetadata } from '../kernel/adapter.js';
import type { DeviceSpec } from '../spec/index.js';
import type { KernelSession } from './kernelSession.js';

export interface ObservedWorld {
  observation: KernelObservation;
  blockDevices: Map<string, BlockDeviceInfo | undefined>;
  spareMetadata: Map<string, SpareMetadata>;
}

export async function observeWorld(
  session: KernelSession,
  specs: readonly DeviceSpec[],
  signal?: AbortSignal,
  /**
   * By device, a spare no spec names now but the device last ran on (its
   * applied state): what does it hold? Read only while the device has no live
   * table, the one case the planner asks (a live device's own status counts).
   */
  previousSpares: ReadonlyMap<string, string> = new Map(),
): Promise<ObservedWorld> {
  const paths = [...new Set(specs.flatMap((spec) => [spec.mainDevice, spec.spareDevice]))];
  const [observation, infos] = await Promise.all([
    session.observe(signal),
    Promise.all(paths.map((path) => session.inspectBlockDevice(path, signal))),
  ]);
  const blockDevices = new Map(paths.map((path, index) => [path, infos[index]] as const));
  const liveDevice = (name: string) =>
    observation.devices.find(
      (candidate) => candidate.name === name && candidate.owned && candidate.hasLiveTable,
    );
  const notLive = specs.filter((spec) => {
    const spare = blockDevices.get(spec.spareDevice);
    return spare !== undefined && spare.majorMinor !== liveDevice(spec.name)?.remap?.table.spareDevice;
  });
  const previous = [...previousSpares].filter(([name]) => !liveDevice(name)).map(([, path]) => path);
  const spares = [...new Set([...notLive.map((spec) => spec.spareDevice), ...previous])];
  const metadata = await Promise.all(spares.map((path) => session.readSpareMetadata(path, signal)));
  const spareMetadata = new Map(spares.map((path, index) => [path, metadata[index]!] as const));
  return { observation, blockDevices, spareMetadata };
}
