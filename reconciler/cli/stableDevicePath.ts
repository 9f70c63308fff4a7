/**
 * A stable path for a disk the kernel names by major:minor: a link in
 * /dev/disk/by-id (udev's names from the disk's own identity, which survive
 * reboots and disks trading /dev/sdX names), resolved through the kernel
 * adapter so that the simulated kernel answers as the real one does.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { KernelAdapter } from '../kernel/adapter.js';

export const DEFAULT_BY_ID_DIR = '/dev/disk/by-id';

/**
 * Names made from the same identity in a less readable form (the WWN, the
 * NVMe EUI, SCSI's page 83 id): used only when no other link points there.
 */
const LESS_READABLE = /^(?:wwn-|nvme-eui\.|nvme-nvme\.|scsi-)/;

/** The link in `dir` that points at `majorMinor`, the most readable first; undefined when none does. */
export async function stableLinkTo(
  kernel: KernelAdapter,
  majorMinor: string,
  dir = DEFAULT_BY_ID_DIR,
): Promise<string | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const candidates = names
    .filter((name) => !name.startsWith('.'))
    .sort((a, b) => Number(LESS_READABLE.test(a)) - Number(LESS_READABLE.test(b)) || (a < b ? -1 : 1));
  for (const name of candidates) {
    const link = path.join(dir, name);
    if ((await kernel.inspectBlockDevice(link))?.majorMinor === majorMinor) return link;
  }
  return undefined;
}
