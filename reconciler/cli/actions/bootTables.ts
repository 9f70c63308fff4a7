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
import type { CliIo } from '../io.js';
import { EnvironmentError, ExitCode, ExitError } from '../errors.js';
import { resolveConfigDir } from '../options.js';
import { openKernel } from '../../controller/kernelChoice.js';
import { environmentError, resolveStateDir } from '../../controller/commandSupport.js';
import { FileStateStore } from '../../controller/stateStore.js';
import { loadSpecs } from '../../spec/index.js';
import { planBootTables } from '../../boot/bootTables.js';
import type { BootTablesResult } from '../../boot/bootTables.js';
import { parseMountinfo } from '../../boot/mounts.js';
import { DEFAULT_BOOT_MOUNTS } from '../commands/bootTables.js';
import type { BootTablesOptions } from '../commands/bootTables.js';

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
