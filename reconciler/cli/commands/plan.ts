/**
 * `dm-remap plan` as commander sees it: arguments, options and help.
 * What it does is in actions/plan.ts, imported only when it runs.
 */
import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { addAcceptDataLossOption, addReconcileOptions } from '../options.js';
import type { ReconcileOptions } from '../options.js';

export const command: CliCommand = {
  register(program: Command, io: CliIo) {
    const verb = program
      .command('plan')
      .summary('show what apply would change, changing nothing')
      .description(
        'Compare the specs with the kernel and print, device by device, the operations apply would carry out ' +
          'and why. Changes nothing. Exit status 0: nothing to do; 2: apply would change the kernel; 1: apply ' +
          'would leave a device unconverged (an invalid spec, a refused change, a missing disk, an open device), ' +
          'whatever else is pending; a missing disk of a device whose spec says nofail is not counted.',
      );
    addAcceptDataLossOption(addReconcileOptions(verb, { output: true })).action(
      async (options: ReconcileOptions) => {
        const { planCommand } = await import('../actions/plan.js');
        await planCommand(options, io);
      },
    );
  },
};
