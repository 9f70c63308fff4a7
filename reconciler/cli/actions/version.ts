/**
 * `dm-remap version`: this CLI's version, whether the `remap` target's module
 * is loaded (and the version it reports in sysfs, when it has one) and the
 * one `modinfo` finds on disk.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import packageJson from '../../../package.json' with { type: 'json' };
import type { CliIo } from '../io.js';
import { withKernel } from '../adminSupport.js';
import type { KernelOptions } from '../options.js';
import { MODULE_NAME } from '../../kernel/adapter.js';

export async function versionCommand(options: KernelOptions, io: CliIo): Promise<void> {
  const loaded = await withKernel(
    options,
    io,
    'version',
    async (kernel) => (await kernel.observe()).moduleLoaded,
  );
  const sysfs = MODULE_NAME.replaceAll('-', '_');
  const loadedVersion = loaded
    ? await readFile(`/sys/module/${sysfs}/srcversion`, 'utf8').catch(() => '')
    : '';
  const onDisk = await promisify(execFile)('modinfo', ['-F', 'srcversion', MODULE_NAME], {
    env: { ...io.env, LC_ALL: 'C' },
  }).then(
    ({ stdout }) => stdout.trim(),
    () => '',
  );
  io.stdout(
    [
      `dm-remap ${packageJson.version}`,
      `module ${MODULE_NAME}: ${loaded ? 'loaded' : 'not loaded'}${loadedVersion.trim() ? ` (srcversion ${loadedVersion.trim()})` : ''}`,
      `module ${MODULE_NAME} on disk: ${onDisk ? `srcversion ${onDisk}` : 'not found by modinfo'}`,
    ].join('\n') + '\n',
  );
}
