/**
 * `dm-remap version` as commander sees it: arguments, options and help.
 * What it does is in actions/version.ts, imported only when it runs.
 */
import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { addKernelOption } from '../options.js';
import type { KernelOptions } from '../options.js';

export const command: CliCommand = {
  register(program: Command, io: CliIo) {
    const verb = program
      .command('version')
      .summary('print the CLI version and the module loaded and on disk')
      .description(
        "Print this CLI's version, whether the dm-remap module is loaded (with its srcversion), and the " +
          'srcversion of the one modinfo finds on disk: after an upgrade, a loaded module that differs from the ' +
          'one on disk is the old one until it is reloaded.',
      );
    addKernelOption(verb).action(async (options: KernelOptions) => {
      const { versionCommand } = await import('../actions/version.js');
      await versionCommand(options, io);
    });
  },
};
