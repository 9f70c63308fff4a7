/**
 * Whether the dm-remap module is loaded, read from sysfs without a process:
 * /sys/module/dm_remap/initstate says "live" once the module's init has
 * returned (its target is registered by then). Anything else — no such
 * file (not loaded, or built into the kernel, which has no initstate),
 * "coming" or "going" — is not an answer, and the caller asks device-mapper
 * itself (`dmsetup targets`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** The module's name as sysfs spells it (dashes become underscores). */
const SYSFS_MODULE = 'dm_remap';

/** True when sysfs shows the module live; undefined when sysfs cannot tell. */
export async function moduleLiveInSysfs(sysfsRoot: string): Promise<true | undefined> {
  try {
    const state = await readFile(path.join(sysfsRoot, 'module', SYSFS_MODULE, 'initstate'), 'utf8');
    return state.trim() === 'live' ? true : undefined;
  } catch {
    return undefined;
  }
}
