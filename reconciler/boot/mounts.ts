/**
 * Which block device a mount point's filesystem is on, from
 * /proc/self/mountinfo (proc(5)): the line of the mount point (the last one
 * when mounts are stacked, which is the one visible) gives the device's
 * major:minor and the mount source. Pure parsing; the caller reads the file.
 */
import path from 'node:path';

export const DEFAULT_MOUNTINFO = '/proc/self/mountinfo';

export interface MountEntry {
  mountPoint: string;
  /** "major:minor" of the filesystem's device (an anonymous 0:N for btrfs, zfs, tmpfs...). */
  majorMinor: string;
  fsType: string;
  /** What was mounted, as mount(8) shows it: a device path, a zfs dataset, "tmpfs"... */
  source: string;
}

/** The entries of a mountinfo text, in the kernel's order (a later mount over an earlier one comes after it). */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    const [, , majorMinor, , mountPoint] = fields;
    if (separator < 0 || majorMinor === undefined || mountPoint === undefined) continue;
    entries.push({
      mountPoint: unescapeField(mountPoint),
      majorMinor,
      fsType: fields[separator + 1] ?? '',
      source: unescapeField(fields[separator + 2] ?? ''),
    });
  }
  return entries;
}

/** The visible mount at exactly `mountPoint`, or undefined when that path is not a mount point of its own. */
export function mountAt(entries: readonly MountEntry[], mountPoint: string): MountEntry | undefined {
  const wanted = path.resolve('/', mountPoint);
  return entries.findLast((entry) => entry.mountPoint === wanted);
}

/** The kernel writes space, tab, newline and backslash in a path as octal escapes (\040...). */
function unescapeField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}
