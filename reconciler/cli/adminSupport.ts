/**
 * What the admin verbs (`clear-stats`, `remap-block`, `version`) share: the
 * kernel they talk to (the hidden --kernel of the reconcile verbs) and how a
 * refused target message reads. They talk to one device's target through
 * the adapter's `message`, which refuses a device dm-remap does not own.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { KernelError } from '../kernel/adapter.js';
import type { KernelAdapter } from '../kernel/adapter.js';
import { openKernel } from '../controller/kernelChoice.js';
import { environmentError } from '../controller/commandSupport.js';
import type { CliIo } from './io.js';
import { ExitCode, ExitError } from './errors.js';

export interface KernelOptions {
  kernel: string;
}

export function addKernelOption(command: Command): Command {
  return command.addOption(
    new Option('--kernel <kind>', 'kernel adapter: dmsetup, or sim:FILE (a simulated kernel kept in FILE)')
      .default('dmsetup')
      .hideHelp(),
  );
}

/** Run `use` on the chosen kernel; a device-level refusal is one line on stderr and exit 1. */
export async function withKernel<T>(
  options: KernelOptions,
  io: CliIo,
  what: string,
  use: (kernel: KernelAdapter) => Promise<T>,
): Promise<T> {
  const opened = await openKernel(options.kernel);
  try {
    // A host that cannot run dm-remap is told so in one line (69 or 77), as by the other verbs.
    await opened.adapter.observe().catch((error: unknown) => {
      throw environmentError('cannot observe device-mapper', error);
    });
    return await use(opened.adapter);
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
