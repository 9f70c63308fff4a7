/**
 * Which kernel adapter a command drives: the real one (dmsetup) or, for tests
 * of the CLI itself, a simulated kernel kept in a JSON file (`sim:FILE`);
 * and, when the host cannot give us one (no dmsetup, no device-mapper, not
 * root), why, in one line an operator can act on.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type {
  BlockDeviceInfo,
  DesiredTable,
  KernelAdapter,
  KernelError,
  KernelObservation,
  SpareMetadata,
} from '../kernel/adapter.js';
import type { SimulatedKernel } from '../kernel/simulated.js';
import { UsageError } from '../cli/errors.js';
import { simStateOf, simulatedKernelFrom, writeSimState } from './simStateFile.js';
import type { SimState } from './simStateFile.js';

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
  const kernel = await SharedSimKernel.open(file);
  return { adapter: kernel, close: () => kernel.save() };
}

/**
 * A simulated kernel that other processes share through its file, as other
 * tools share the real one: every observation first takes in what another
 * process wrote there (a test changing a device behind a running daemon's
 * back), then writes back what it saw, so the file follows the kernel while
 * the command runs, not only once it ends. Outside changes are taken in
 * between observations; an operation still running on the kernel they
 * replace ends there, so a test writes the file while the command is idle.
 */
class SharedSimKernel implements KernelAdapter {
  /** File access, one at a time: a take-in never interleaves with a write-back. */
  private fileQueue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private kernel: SimulatedKernel,
    /**
     * The state the file held when last read or written, without the disks' headers
     * (the kernel holds them; write-back reads them from there), and a digest of its
     * exact text: with 1,000 devices the text and the headers are 11 MB each, and
     * keeping them doubled the simulator's share of a daemon's heap.
     */
    private state: SimState,
    private digest: string,
  ) {}

  static async open(file: string): Promise<SharedSimKernel> {
    const text = await readFile(file, 'utf8');
    const state = JSON.parse(text) as SimState;
    const kernel = await simulatedKernelFrom(state);
    return new SharedSimKernel(file, kernel, withoutHeaders(state), digestOf(text));
  }

  async observe(signal?: AbortSignal): Promise<KernelObservation> {
    await this.exclusive(() => this.takeOutsideChanges());
    const observation = await this.kernel.observe(signal);
    await this.exclusive(() => this.writeBack(observation));
    return observation;
  }

  /** The final state, written whatever the file holds (the command is done with the kernel). */
  async save(): Promise<void> {
    await this.exclusive(async () => {
      const state = this.stateOf(await this.kernel.observe());
      await writeSimState(this.file, state);
    });
  }

  inspectBlockDevice(path: string, signal?: AbortSignal): Promise<BlockDeviceInfo | undefined> {
    return this.kernel.inspectBlockDevice(path, signal);
  }
  readSpareMetadata(path: string, signal?: AbortSignal): Promise<SpareMetadata> {
    return this.kernel.readSpareMetadata(path, signal);
  }
  loadModule(signal?: AbortSignal): Promise<void> {
    return this.kernel.loadModule(signal);
  }
  create(device: DesiredTable, signal?: AbortSignal): Promise<void> {
    return this.kernel.create(device, signal);
  }
  load(device: DesiredTable, signal?: AbortSignal): Promise<void> {
    return this.kernel.load(device, signal);
  }
  suspend(name: string, signal?: AbortSignal): Promise<void> {
    return this.kernel.suspend(name, signal);
  }
  resume(name: string, signal?: AbortSignal): Promise<void> {
    return this.kernel.resume(name, signal);
  }
  clearInactive(name: string, signal?: AbortSignal): Promise<void> {
    return this.kernel.clearInactive(name, signal);
  }
  remove(name: string, signal?: AbortSignal): Promise<void> {
    return this.kernel.remove(name, signal);
  }
  message(name: string, args: string[], signal?: AbortSignal): Promise<string> {
    return this.kernel.message(name, args, signal);
  }
  setUuid(name: string, uuid: string, signal?: AbortSignal): Promise<void> {
    return this.kernel.setUuid(name, uuid, signal);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.fileQueue.then(work);
    this.fileQueue = result.catch(() => undefined);
    return result;
  }

  private async takeOutsideChanges(): Promise<void> {
    const text = await readFile(this.file, 'utf8');
    const digest = digestOf(text);
    if (digest === this.digest) return;
    const state = JSON.parse(text) as SimState;
    this.kernel = await simulatedKernelFrom(state);
    this.state = withoutHeaders(state);
    this.digest = digest;
  }

  private async writeBack(observation: KernelObservation): Promise<void> {
    const state = this.stateOf(observation);
    const digest = digestOf(simStateText(state));
    if (digest === this.digest) return;
    // Changed outside since it was read: leave it for the next observation to take in.
    if (digestOf(await readFile(this.file, 'utf8')) !== this.digest) return;
    await writeSimState(this.file, state);
    this.state = withoutHeaders(state);
    this.digest = digest;
  }

  private stateOf(observation: KernelObservation): SimState {
    const kernel = this.kernel;
    return simStateOf(
      observation,
      this.state,
      (path) => kernel.blockDeviceHeader(path),
      (name) => kernel.savedRemaps(name),
    );
  }
}

/** Tells two texts of the file apart without keeping them. */
function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/** `state` without the block devices' headers, which the kernel built from it holds. */
function withoutHeaders(state: SimState): SimState {
  return { ...state, blockDevices: state.blockDevices.map(({ header: _header, ...device }) => device) };
}

/** The text writeSimState writes for `state`. */
function simStateText(state: SimState): string {
  return JSON.stringify(state, null, 2) + '\n';
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
