/**
 * Which kernel adapter a command drives: the real one (dmsetup) or, for tests
 * of the CLI itself, a simulated kernel kept in a JSON file (`sim:FILE`).
 */
import type { KernelAdapter } from '../kernel/adapter.js';
import { UsageError } from '../cli/errors.js';
import { readSimState, simStateOf, simulatedKernelFrom, writeSimState } from './simStateFile.js';

export interface OpenedKernel {
  adapter: KernelAdapter;
  /** Called once the command is done with the kernel. */
  close(): Promise<void>;
}

const SIM_PREFIX = 'sim:';

export async function openKernel(choice: string): Promise<OpenedKernel> {
  if (choice === 'dmsetup') {
    const { DmsetupKernel } = await import('../kernel/dmsetup.js');
    return { adapter: new DmsetupKernel(), close: () => Promise.resolve() };
  }
  if (choice.startsWith(SIM_PREFIX) && choice.length > SIM_PREFIX.length) {
    return openSimulated(choice.slice(SIM_PREFIX.length));
  }
  throw new UsageError(`--kernel: "${choice}" is neither "dmsetup" nor "sim:FILE"`);
}

async function openSimulated(file: string): Promise<OpenedKernel> {
  const state = await readSimState(file);
  const kernel = await simulatedKernelFrom(state);
  return {
    adapter: kernel,
    close: async () =>
      writeSimState(
        file,
        simStateOf(await kernel.observe(), state, (path) => kernel.blockDeviceHeader(path)),
      ),
  };
}
