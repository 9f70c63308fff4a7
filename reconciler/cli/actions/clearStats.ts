/**
 * `dm-remap clear-stats NAME`: the target's `clear_stats` message — zero
 * read_errors, write_errors, other_errors, remap_failures and lost_sectors,
 * and clear a metadata_error health and a failing main (moves start again).
 * How an operator acknowledges LostSectors, RemapFailures, MetadataError or
 * MainFailing once dealt with. Exit 1 when the device is not an owned,
 * running remap device.
 */
import type { CliIo } from '../io.js';
import { withKernel } from '../adminSupport.js';
import type { KernelOptions } from '../options.js';

export async function clearStatsCommand(name: string, options: KernelOptions, io: CliIo): Promise<void> {
  await withKernel(options, io, `clear-stats ${name}`, (kernel) => kernel.message(name, ['clear_stats']));
  io.stdout(
    `${name}: statistics cleared (read_errors, write_errors, other_errors, remap_failures, lost_sectors; ` +
      'a metadata_error or failing health)\n',
  );
}
