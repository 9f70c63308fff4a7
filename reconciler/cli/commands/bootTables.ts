/**
 * `dm-remap boot-tables` as commander sees it: arguments, options and help.
 * What it does is in actions/bootTables.ts, imported only when it runs.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { addConfigDirOption, addKernelOption, addOutputOption, stateDirOption } from '../options.js';
import type { ConfigDirOptions, KernelOptions, OutputOptions } from '../options.js';
import { DEFAULT_SYSFS_ROOT } from '../../boot/blockStack.js';
import { DEFAULT_MOUNTINFO } from '../../boot/mounts.js';

export const DEFAULT_BOOT_MOUNTS = ['/', '/usr'];

export interface BootTablesOptions extends KernelOptions, ConfigDirOptions, OutputOptions {
  mount?: string[];
  stateDir?: string;
  sysfsRoot: string;
  mountinfo: string;
}

export const command: CliCommand = {
  register(program: Command, io: CliIo) {
    const verb = program
      .command('boot-tables')
      .summary('print what an initramfs needs to create the devices the root filesystem is on')
      .addOption(
        new Option(
          '--mount <path>',
          `a mount point whose filesystem's devices to list (repeatable; default: ${DEFAULT_BOOT_MOUNTS.join(' and ')})`,
        ).argParser((path: string, previous: string[] | undefined) => [...(previous ?? []), path]),
      )
      .addOption(stateDirOption())
      .addOption(new Option('--sysfs-root <dir>', 'where sysfs is').default(DEFAULT_SYSFS_ROOT).hideHelp())
      .addOption(new Option('--mountinfo <file>', 'the mount table').default(DEFAULT_MOUNTINFO).hideHelp())
      .description(
        'List the dm-remap devices that the filesystems mounted at the given mount points sit on, directly ' +
          'or under other devices (LVM, dm-crypt: followed down through /sys/block/*/slaves), lowest first, ' +
          'as an initramfs must create them to mount the root: one line per device, ' +
          '"NAME UUID TABLE", where TABLE is the live table (dmsetup table) with the main and spare ' +
          'device numbers replaced by the stable paths the applied record or spec names for them ' +
          '(/dev/disk/by-id/...). Words are separated by single spaces and hold only A-Z a-z 0-9 and ' +
          '+ _ . : / = @ , - so that a POSIX shell can read a line with `read -r`. Nothing is printed when ' +
          'no such device exists. A mount point that is not a mount of its own is skipped. The ' +
          'initramfs-tools hook runs this at update-initramfs time. Refused (exit status 1, nothing on ' +
          'stdout) when a device could not be created at boot exactly as it runs: a remap device ' +
          'dm-remap does not own, a disk named by a kernel name (/dev/sdX) or by no path under /dev, or a ' +
          'path that no longer resolves to the disk the live table uses. Never changes a device.',
      );
    addKernelOption(addOutputOption(addConfigDirOption(verb))).action(async (options: BootTablesOptions) => {
      const { bootTablesCommand } = await import('../actions/bootTables.js');
      await bootTablesCommand(options, io);
    });
  },
};
