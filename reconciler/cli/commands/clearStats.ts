/**
 * `dm-remap clear-stats` as commander sees it: arguments, options and help.
 * What it does is in actions/clearStats.ts, imported only when it runs.
 */
import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { addKernelOption } from '../options.js';
import type { KernelOptions } from '../options.js';

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
    addKernelOption(verb).action(async (name: string, options: KernelOptions) => {
      const { clearStatsCommand } = await import('../actions/clearStats.js');
      await clearStatsCommand(name, options, io);
    });
  },
};
