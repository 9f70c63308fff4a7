/**
 * `dm-remap remaps` as commander sees it: arguments, options and help.
 * What it does is in actions/remaps.ts, imported only when it runs.
 */
import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { addKernelOption, addOutputOption } from '../options.js';
import type { KernelOptions, OutputOptions } from '../options.js';

export interface RemapsOptions extends KernelOptions, OutputOptions {
  from?: string;
  count?: string;
  pending?: boolean;
}

export const command: CliCommand = {
  register(program: Command, io: CliIo) {
    const verb = program
      .command('remaps')
      .summary('list the blocks a device has moved to its spare (or its pending blocks)')
      .argument('<name>', 'the device')
      .option('--from <block>', 'the first block to list (default 0)')
      .option('--count <n>', 'list at most N entries, then say which block to go on from')
      .option(
        '--pending',
        "list the pending blocks instead (main could not read them; the target's list_pending)",
      )
      .description(
        "Print the target's list_remaps: each remapped block (in the device's block size, from 0) and the " +
          'spare block holding its data, ascending, read a page at a time. With --count, the last line (JSON: ' +
          '"next") says which block to go on from. Exit status 1 when NAME is not a running device dm-remap owns.',
      );
    addOutputOption(addKernelOption(verb)).action(async (name: string, options: RemapsOptions) => {
      const { remapsCommand } = await import('../actions/remaps.js');
      await remapsCommand(name, options, io);
    });
  },
};
