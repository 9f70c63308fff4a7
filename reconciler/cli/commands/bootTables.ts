/**
 * `dm-remap boot-tables [--mount PATH...] [-o text|json]`: the dm-remap
 * devices the root and /usr filesystems sit on, as an initramfs must create
 * them (boot/bootTables.ts decides). The initramfs-tools hook writes the text
 * form into the image; etc/initramfs-tools/scripts/local-top/dm-remap reads
 * it at boot. Read-only: never changes a device. Exit 1 when a device cannot
 * be listed safely, so that update-initramfs never builds an image that
 * cannot create the device its root is on.
 */
import { readFile } from 'node:fs/promises';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { EnvironmentError, ExitCode, ExitError } from '../errors.js';
import {
  addConfigDirOption,
  addKernelOption,
  addOutputOption,
  resolveConfigDir,
  stateDirOption,
} from '../options.js';
import type { ConfigDirOptions, KernelOptions, OutputOptions } from '../options.js';
import { openKernel } from '../../controller/kernelChoice.js';
import { environmentError, resolveStateDir } from '../../controller/commandSupport.js';
import { FileStateStore } from '../../controller/stateStore.js';
import { loadSpecs } from '../../spec/index.js';
import { planBootTables } from '../../boot/bootTables.js';
import type { BootTablesResult } from '../../boot/bootTables.js';
import { DEFAULT_SYSFS_ROOT } from '../../boot/blockStack.js';
import { DEFAULT_MOUNTINFO, parseMountinfo } from '../../boot/mounts.js';

export const DEFAULT_BOOT_MOUNTS = ['/', '/usr'];

interface BootTablesOptions extends KernelOptions, ConfigDirOptions, OutputOptions {
  mount?: string[];
  stateDir?: string;
  sysfsRoot: string;
  mountinfo: string;
}

export async function bootTablesCommand(options: BootTablesOptions, io: CliIo): Promise<void> {
  const configDir = resolveConfigDir(options, io.env);
  const stateDir = resolveStateDir(options, io.env);
  const mountinfo = parseMountinfo(
    await readFile(options.mountinfo, 'utf8').catch((error: unknown) => {
      // A chroot without /proc: say so in one line rather than as a crash.
      throw new EnvironmentError(
        `boot-tables: cannot read the mount table ${options.mountinfo}: ${(error as Error).message}`,
        ExitCode.unavailable,
      );
    }),
  );
  const opened = await openKernel(options.kernel);
  let result: BootTablesResult;
  try {
    // A missing or unreadable config dir leaves the records to name the disks; a spec with errors names none.
    const { devices: declared } = await loadSpecs([configDir]);
    const records = await new FileStateStore(stateDir).loadAll();
    result = await planBootTables(options.mount ?? DEFAULT_BOOT_MOUNTS, {
      kernel: opened.adapter,
      observe: () =>
        opened.adapter.observe().catch((error: unknown) => {
          throw environmentError('cannot observe device-mapper', error);
        }),
      mountinfo,
      sysfsRoot: options.sysfsRoot,
      declared,
      records,
      configDir,
      stateDir,
    });
  } finally {
    await opened.close();
  }
  for (const mount of result.mounts) {
    if (mount.state === 'notABlockDevice') {
      io.stderr(
        `dm-remap: boot-tables: warning: ${mount.mountPoint} is ${mount.fsType} on ${mount.source}, not on a ` +
          'block device: a dm-remap device under it cannot be found\n',
      );
    }
  }
  if (result.refusals.length > 0) {
    for (const refusal of result.refusals) io.stderr(`dm-remap: boot-tables: refused: ${refusal}\n`);
    throw new ExitError(ExitCode.notConverged);
  }
  if (options.output === 'json') {
    io.stdout(JSON.stringify({ devices: result.tables, mounts: result.mounts }, null, 2) + '\n');
    return;
  }
  for (const table of result.tables) io.stdout(`${table.name} ${table.uuid} ${table.table}\n`);
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
    addKernelOption(addOutputOption(addConfigDirOption(verb))).action((options: BootTablesOptions) =>
      bootTablesCommand(options, io),
    );
  },
};
