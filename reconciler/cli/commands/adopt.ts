/**
 * `dm-remap adopt` as commander sees it: arguments, options and help.
 * What it does is in actions/adopt.ts, imported only when it runs.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { addConfigDirOption, addKernelOption } from '../options.js';
import type { ConfigDirOptions, KernelOptions } from '../options.js';
import { DEFAULT_BY_ID_DIR } from '../stableDevicePath.js';

export interface AdoptOptions extends KernelOptions, ConfigDirOptions {
  dryRun?: boolean;
  byIdDir: string;
}

export const command: CliCommand = {
  register(program: Command, io: CliIo) {
    const verb = program
      .command('adopt')
      .summary('take over a remap device made by hand: write its spec, give it the owned UUID')
      .argument('<name>', 'the device-mapper device')
      .option('--dry-run', 'print the spec it would write and change nothing')
      .addOption(
        new Option('--by-id-dir <dir>', 'where stable disk links are looked for')
          .default(DEFAULT_BY_ID_DIR)
          .hideHelp(),
      )
      .description(
        'Read the table of a remap device made with dmsetup, write the spec that says what it is into the ' +
          'config dir (NAME.yaml, main and spare by their /dev/disk/by-id links), then set its dm UUID to ' +
          'DMREMAP-NAME, which hands it to dm-remap. The table is never reloaded and the device never ' +
          'suspended. Refused (exit status 1) when anything is ambiguous: a device with a UUID (device-mapper ' +
          'sets one only on a device that has none), a table that is not one remap target over the whole ' +
          'main device, a disk without a stable link, a name or a disk another spec declares.',
      );
    addKernelOption(addConfigDirOption(verb)).action(async (name: string, options: AdoptOptions) => {
      const { adoptCommand } = await import('../actions/adopt.js');
      await adoptCommand(name, options, io);
    });
  },
};
