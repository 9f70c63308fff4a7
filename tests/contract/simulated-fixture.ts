/** The contract fixture for SimulatedKernel: block devices and foreign devices are registered in memory. */
import { SimulatedKernel } from '../../reconciler/kernel/simulated.js';
import type { SimulatedKernelOptions } from '../../reconciler/kernel/simulated.js';
import type { ContractFixture } from './fixture.js';

export async function simulatedFixture(options: SimulatedKernelOptions = {}): Promise<ContractFixture> {
  const kernel = new SimulatedKernel(options);
  let remapAvailable = true;
  try {
    await kernel.loadModule();
  } catch {
    remapAvailable = false;
  }
  let nextDisk = 0;
  let nextName = 0;
  return {
    kernel,
    remapAvailable,
    blockDevice(sizeSectors) {
      return Promise.resolve(kernel.addBlockDevice(`/dev/simdisk${nextDisk++}`, sizeSectors));
    },
    writeBlockDevice(device, offset, bytes) {
      kernel.writeBlockDevice(device.path, offset, bytes);
      return Promise.resolve();
    },
    holdOpen(name) {
      const close = kernel.open(name);
      return Promise.resolve(() => {
        close();
        return Promise.resolve();
      });
    },
    createForeign(name, uuid, table) {
      kernel.addForeignDevice(name, uuid, table);
      return Promise.resolve();
    },
    createHalfDone(name, uuid, inactiveTable) {
      kernel.addHalfCreatedDevice(name, uuid, inactiveTable);
      return Promise.resolve();
    },
    garbleStatus(name, printed) {
      kernel.garbleStatus(name, printed);
    },
    processCount(command) {
      return command === 'modprobe' ? kernel.calls.loadModule : kernel.calls[command];
    },
    uniqueName(stem) {
      return `ct-${stem}-${nextName++}`;
    },
    // Each case gets a fresh simulator, so there is nothing to release.
    cleanup: () => Promise.resolve(),
  };
}
