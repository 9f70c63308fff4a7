/**
 * Resolves a block device path to what device-mapper will print for it:
 * "major:minor" from the device number (stat follows symlinks such as
 * /dev/disk/by-id/...), the size in 512-byte sectors from sysfs, and the
 * disk's stable identity (disk-identity.ts), the main_id's source.
 */
import { stat } from 'node:fs/promises';

import { KernelError } from './adapter.js';
import type { BlockDeviceInfo } from './adapter.js';
import { nodeIdentityFs, resolveDiskIdentity } from './disk-identity.js';
import type { IdentityFs } from './disk-identity.js';
import { abortedError } from './errors.js';

/** Linux's dev_t layout (MAJOR()/MINOR() in glibc's sysmacros.h): 12+ bits of major, 20 bits of minor, split. */
export function splitDeviceNumber(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

export interface BlockDeviceFs extends IdentityFs {
  stat(path: string): Promise<{ isBlockDevice(): boolean; rdev: bigint }>;
}

const nodeFs: BlockDeviceFs = {
  ...nodeIdentityFs,
  stat: (path) => stat(path, { bigint: true }),
};

export async function inspectBlockDevice(
  path: string,
  signal?: AbortSignal,
  fs: BlockDeviceFs = nodeFs,
): Promise<BlockDeviceInfo | undefined> {
  if (signal?.aborted) throw abortedError('inspectBlockDevice', path);
  let stats;
  try {
    stats = await fs.stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KernelError(`stat ${path}: ${(error as Error).message}`, 'inspectBlockDevice', path);
  }
  if (!stats.isBlockDevice()) {
    throw new KernelError(`${path} is not a block device`, 'inspectBlockDevice', path, 'ENOTBLK');
  }
  const { major, minor } = splitDeviceNumber(stats.rdev);
  const sizeFile = `/sys/dev/block/${major}:${minor}/size`;
  let sizeText;
  try {
    sizeText = await fs.readFile(sizeFile);
  } catch (error) {
    throw new KernelError(`read ${sizeFile}: ${(error as Error).message}`, 'inspectBlockDevice', path);
  }
  // sysfs always counts 512-byte sectors, whatever the device's logical block size.
  const sizeSectors = Number(sizeText.trim());
  if (!Number.isSafeInteger(sizeSectors)) {
    throw new KernelError(`${sizeFile} holds "${sizeText.trim()}"`, 'inspectBlockDevice', path);
  }
  const majorMinor = `${major}:${minor}`;
  const identity = await resolveDiskIdentity(majorMinor, signal, fs);
  return { path, majorMinor, sizeSectors, ...(identity ? { identity } : {}) };
}
