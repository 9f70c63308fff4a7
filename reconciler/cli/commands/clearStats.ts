/**
 * `dm-remap clear-stats NAME`: the target's `clear_stats` message — zero
 * read_errors, write_errors, other_errors, remap_failures and lost_sectors,
 * and clear a metadata_error health and a failing main (moves start again).
 * How an operator acknowledges LostSectors, RemapFailures, MetadataError or
 * MainFailing once dealt with. Exit 1 when the device is not an owned,
 * running remap device.
 */
import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { withKernel } from '../adminSupport.js';
import { addKernelOption } from '../options.js';
import type { KernelOptions } from '../options.js';

export async function clearStatsCommand(name: string, options: KernelOptions, io: CliIo): Promise<void> {
  await withKernel(options, io, `clear-stats ${name}`, (kernel) => kernel.message(name, ['clear_stats']));
  io.stdout(
    `${name}: statistics cleared (read_errors, write_errors, other_errors, remap_failures, lost_sectors; ` +
      'a metadata_error or failing health)\n',
  );
}

export const command: CliCommand = {
  register(program: Command, io: CliIo) {
    const verb = program
      .command('clear-stats')
      .summary("zero a device's error counters and clear a metadata_error or failing health")
      .argument('<name>', 'the device')
      .description(
        "Send the target's clear_stats message: zero read_errors, write_errors, other_errors, remap_failures " +
          'and lost_sectors, and clear a metadata_error health and a failing main (moves start again). ' +
          'Exit status 1 when NAME is not a running device dm-remap owns.',
      );
    addKernelOption(verb).action((name: string, options: KernelOptions) =>
      clearStatsCommand(name, options, io),
    );
  },
};
