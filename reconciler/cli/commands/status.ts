/**
 * `dm-remap status` as commander sees it: arguments, options and help.
 * What it does is in actions/status.ts, imported only when it runs.
 */
import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { addReconcileOptions } from '../options.js';
import type { ReconcileOptions } from '../options.js';

export const command: CliCommand = {
  register(program: Command, io: CliIo) {
    const verb = program
      .command('status')
      .summary("show each device's phase, health and counters")
      .argument('[name...]', 'devices to show (default: every device declared or owned)')
      .description(
        'Observe the kernel and print, per device, its lifecycle phase, whether it is Ready, Degraded or ' +
          "Failed and why, and its target's counters (remapped and pending blocks, spare usage, I/O errors, " +
          'lost sectors). Changes nothing and needs no daemon. Exit status 0: every device shown is Ready and ' +
          'neither Degraded nor Failed; 1: one is not, or a NAME is unknown.',
      );
    addReconcileOptions(verb, { output: true }).action(async (names: string[], options: ReconcileOptions) => {
      const { statusCommand } = await import('../actions/status.js');
      await statusCommand(names, options, io);
    });
  },
};
