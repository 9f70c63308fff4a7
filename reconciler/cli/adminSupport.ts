/**
 * What the admin verbs (`clear-stats`, `remap-block`, `remaps`, `adopt`,
 * `version`) share when they run: the kernel they talk to (the hidden
 * --kernel of the reconcile verbs), how a refused target message reads, the
 * owned remap device a verb addresses and its block numbers. They talk to one
 * device's target through the adapter's `message`, which refuses a device
 * dm-remap does not own.
 */
import { KernelError } from '../kernel/adapter.js';
import type { KernelAdapter, KernelObservation, RemapStatus, RemapTable } from '../kernel/adapter.js';
import { noSuchDeviceError, notOwnedError } from '../kernel/errors.js';
import { openKernel } from '../controller/kernelChoice.js';
import { environmentError } from '../controller/commandSupport.js';
import type { CliIo } from './io.js';
import { ExitCode, ExitError, UsageError } from './errors.js';
import type { KernelOptions } from './options.js';

/**
 * Run `use` on the chosen kernel with a first observation of it; a
 * device-level refusal is one line on stderr and exit 1.
 */
export async function withKernel<T>(
  options: KernelOptions,
  io: CliIo,
  what: string,
  use: (kernel: KernelAdapter, observation: KernelObservation) => Promise<T>,
): Promise<T> {
  const opened = await openKernel(options.kernel);
  try {
    // A host that cannot run dm-remap is told so in one line (69 or 77), as by the other verbs.
    const observation = await opened.adapter.observe().catch((error: unknown) => {
      throw environmentError('cannot observe device-mapper', error);
    });
    return await use(opened.adapter, observation);
  } catch (error) {
    if (error instanceof KernelError && error.device !== undefined) {
      io.stderr(`dm-remap: ${what}: ${error.message} (${error.code})\n`);
      throw new ExitError(ExitCode.notConverged);
    }
    throw error;
  } finally {
    await opened.close();
  }
}

/** A running remap device dm-remap owns, as observed. */
export interface OwnedRemapDevice {
  name: string;
  table: RemapTable;
  status: RemapStatus;
  /** Main blocks: the table's length over its block size. */
  blocks: number;
  blockSizeBytes: number;
}

/** `name` in `observation`, refused (a KernelError naming it) unless it is a running remap device dm-remap owns. */
export function ownedRemapDevice(observation: KernelObservation, name: string): OwnedRemapDevice {
  const device = observation.devices.find((candidate) => candidate.name === name);
  if (!device) throw noSuchDeviceError('message', name);
  if (!device.owned) throw notOwnedError('message', name, device.uuid);
  if (!device.remap) {
    const why = device.unreadable ?? 'it has no live table of a single remap target';
    throw new KernelError(`${name} is not a running remap device: ${why}`, 'message', name, 'EINVAL');
  }
  const { table, status } = device.remap;
  return {
    name,
    table,
    status,
    blocks: Math.floor(table.lengthSectors / table.blockSizeSectors),
    blockSizeBytes: table.blockSizeSectors * 512,
  };
}

/** A block number or count given on the command line: a whole number of at least `minimum` (64 otherwise). */
export function wholeNumber(what: string, text: string, minimum: number): number {
  if (!/^\d+$/.test(text) || Number(text) < minimum || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${what}: "${text}" is not a whole number of at least ${minimum}`);
  }
  return Number(text);
}
