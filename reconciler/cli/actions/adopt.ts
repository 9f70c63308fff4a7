/**
 * `dm-remap adopt NAME [--dry-run]`: take over a remap device made by hand
 * (`dmsetup create` without a UUID). Writes its spec into the config dir
 * (adoption.ts decides it, or refuses), then gives the device the owned UUID
 * — the spec first, so that a device is never owned without a spec saying
 * what it is (a daemon would not know to keep it). Never loads a table and
 * never suspends: the device serves I/O throughout. Exit 1 when refused.
 */
import { stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { CliIo } from '../io.js';
import { ExitCode, ExitError } from '../errors.js';
import { resolveConfigDir } from '../options.js';
import { withKernel } from '../adminSupport.js';
import { AdoptionRefused, planAdoption } from '../adoption.js';
import { createSpecFile } from '../specFile.js';
import { loadSpecs } from '../../spec/index.js';
import type { AdoptOptions } from '../commands/adopt.js';

export async function adoptCommand(name: string, options: AdoptOptions, io: CliIo): Promise<void> {
  const configDir = resolveConfigDir(options, io.env);
  if (!(await stat(configDir).catch(() => undefined))?.isDirectory()) {
    io.stderr(`dm-remap: adopt: the config dir ${configDir} does not exist\n`);
    throw new ExitError(ExitCode.ioError);
  }
  const refuse = (why: string): never => {
    io.stderr(`dm-remap: adopt: ${name}: refused: ${why}\n`);
    throw new ExitError(ExitCode.notConverged);
  };
  await withKernel(options, io, `adopt ${name}`, async (kernel, observation) => {
    const { devices: declared } = await loadSpecs([configDir]);
    let adoption;
    try {
      adoption = await planAdoption(name, { kernel, observation, declared, byIdDir: options.byIdDir });
    } catch (error) {
      if (error instanceof AdoptionRefused) return refuse(error.message);
      throw error;
    }
    if (options.dryRun) {
      io.stdout(adoption.text);
      return;
    }
    const file = path.join(configDir, `${name}.yaml`);
    if (!(await createSpecFile(file, adoption.text))) return refuse(`${file} exists already`);
    try {
      await kernel.setUuid(name, adoption.uuid);
    } catch (error) {
      // Without the UUID the spec would name a device dm-remap may not touch: take it back.
      await unlink(file);
      io.stderr(`dm-remap: adopt: ${name}: setting the UUID failed; ${file} was removed again\n`);
      throw error;
    }
    io.stdout(`${name}: adopted: wrote ${file}, set the UUID ${adoption.uuid}\n`);
  });
}
