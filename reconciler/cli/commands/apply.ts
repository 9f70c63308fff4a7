/**
 * `dm-remap apply` as commander sees it: arguments, options and help.
 * What it does is in actions/apply.ts, imported only when it runs.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { addAcceptDataLossOption, addReconcileOptions } from '../options.js';
import type { ReconcileOptions } from '../options.js';

export interface ApplyOptions extends ReconcileOptions {
  timeout: string;
  retries: string;
}

export const command: CliCommand = {
  register(program: Command, io: CliIo) {
    const verb = program
      .command('apply')
      .summary('converge every device once, then exit')
      .description(
        'Create, reload, resume or remove devices until the kernel matches the specs, then print one line per ' +
          'device. Exit status 0 only when every device converged (held, paused and orphaned devices count: ' +
          'they are left alone on purpose); 1 when a device rests unconverged (failed, refused, waiting for a ' +
          'disk, blocked); 75 when --timeout passed with a device still at work. A device whose disks did not ' +
          "appear within its spec's deviceTimeout (default 90s) is reported and left waiting, never started " +
          'without them; with nofail: true in its spec it is a skip, not a failure.',
      );
    addAcceptDataLossOption(addReconcileOptions(verb, { output: true }))
      .addOption(new Option('--timeout <duration>', 'give up after this long').default('5m'))
      .addOption(
        new Option('--retries <n>', 'retries of a failing device before giving up on it').default('3'),
      )
      .action(async (options: ApplyOptions) => {
        const { applyCommand } = await import('../actions/apply.js');
        await applyCommand(options, io);
      });
  },
};
