/**
 * The device-mapper devices a block device sits on, read from sysfs only (no
 * dmsetup, so a host whose root is on a plain disk never needs
 * device-mapper): a dm device lists what it is built on in `slaves/`, and a
 * partition sits on its disk, the sysfs directory above it. Listed lowest
 * first, the order in which an initramfs must create them.
 */
import { readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';

export const DEFAULT_SYSFS_ROOT = '/sys';

export interface StackedDmDevice {
  majorMinor: string;
  /** From sysfs's dm/name and dm/uuid ('' when it has no UUID). */
  name: string;
  uuid: string;
}

/** Whether sysfs knows a block device by this number (an anonymous device, as btrfs's, has none). */
export async function isBlockDeviceNumber(majorMinor: string, sysfsRoot: string): Promise<boolean> {
  return (await readText(path.join(sysfsRoot, 'dev/block', majorMinor, 'dev'))) !== undefined;
}

/** Every dm device at or below `majorMinor`, each once, a device after all it is built on. */
export async function dmDevicesBelow(majorMinor: string, sysfsRoot: string): Promise<StackedDmDevice[]> {
  const found: StackedDmDevice[] = [];
  const visited = new Set<string>();
  const visit = async (current: string): Promise<void> => {
    if (visited.has(current)) return;
    visited.add(current);
    const node = path.join(sysfsRoot, 'dev/block', current);
    for (const lower of await lowerDevices(node)) await visit(lower);
    const name = await readText(path.join(node, 'dm/name'));
    if (name !== undefined) {
      found.push({ majorMinor: current, name, uuid: (await readText(path.join(node, 'dm/uuid'))) ?? '' });
    }
  };
  await visit(majorMinor);
  return found;
}

/** The numbers of the devices `node` is built on: its slaves, or the disk of a partition. */
async function lowerDevices(node: string): Promise<string[]> {
  const slaves = await readdir(path.join(node, 'slaves')).catch(() => [] as string[]);
  const numbers = await Promise.all(slaves.map((slave) => readText(path.join(node, 'slaves', slave, 'dev'))));
  if ((await readText(path.join(node, 'partition'))) !== undefined) {
    // ".." of the device's real directory, not of the /sys/dev/block link, which path.join would drop.
    const disk = path.dirname(await realpath(node));
    numbers.push(await readText(path.join(disk, 'dev')));
  }
  return numbers.filter((number): number is string => number !== undefined && number !== '');
}

async function readText(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').then(
    (text) => text.trim(),
    () => undefined,
  );
}
