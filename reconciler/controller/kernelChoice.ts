/**
 * Which kernel adapter a command drives: the real one (dmsetup) or, for tests
 * of the CLI itself, a simulated kernel kept in a JSON file (`sim:FILE`);
 * and, when the host cannot give us one (no dmsetup, no device-mapper, not
 * root), why, in one line an operator can act on.
 */
import type { KernelAdapter, KernelError } from '../kernel/adapter.js';
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

/** Why the kernel cannot be used, in one line, and whether it is a matter of permission (not root). */
export interface KernelUnusable {
  reason: string;
  permission: boolean;
}

/** Packages that ship the programs the dmsetup adapter runs (Debian's names). */
const PACKAGE_OF: Readonly<Record<string, string>> = { dmsetup: 'dmsetup', modprobe: 'kmod' };

/**
 * Reads a KernelError the way an operator needs it: a program that is not
 * installed or cannot be run, device-mapper refusing a non-root caller, a
 * kernel without device-mapper, or else the line that says what went wrong
 * (dmsetup's first line, without the command line in front of it).
 */
export function kernelUnusable(error: KernelError): KernelUnusable {
  const spawned = /\bspawn (\S+) (ENOENT|EACCES)\b/.exec(error.message);
  if (spawned) {
    const program = spawned[1]!.slice(spawned[1]!.lastIndexOf('/') + 1);
    if (spawned[2] === 'EACCES')
      return { reason: `${program} cannot be run: permission denied`, permission: true };
    const from = PACKAGE_OF[program];
    return {
      reason: `${program} not found${from ? ` (install the ${from} package)` : ''}`,
      permission: false,
    };
  }
  const line = keyLine(error.message);
  if (
    error.code === 'EPERM' ||
    error.code === 'EACCES' ||
    /Permission denied|Operation not permitted/.test(line)
  ) {
    return { reason: `${line} (run as root)`, permission: true };
  }
  if (/\/dev\/mapper\/control|Failure to communicate with kernel device-mapper/.test(error.message)) {
    return { reason: `${line} (this kernel has no device-mapper: modprobe dm_mod)`, permission: false };
  }
  return { reason: line, permission: false };
}

/** dmsetup's telling line: the one about /dev/mapper/control if any, else the first, without the command before it. */
function keyLine(message: string): string {
  const lines = message.split('\n').map((line) => line.replace(/^(?:dmsetup|modprobe)\b[^:]*: /, '').trim());
  return (
    lines.find((line) => line.includes('/dev/mapper/control')) ?? lines.find((line) => line !== '') ?? message
  );
}
