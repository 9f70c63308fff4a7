/**
 * A stable identity of a block device, read from sysfs, and the `main_id`
 * table feature made from it (kmod/README.md, "Table").
 *
 * Names like /dev/sda follow probe order and can trade places between boots;
 * the identity follows the disk. It is read from sysfs rather than from
 * /dev/disk/by-id because udev may not have run yet (boot-time activation)
 * or at all (the test guest). Sources, first present and non-empty wins
 * (paths relative to /sys/dev/block/M:m of the whole disk; each checked
 * against Linux 6.1 and 6.12):
 *
 *   dm/uuid        device-mapper UUID (dm-sysfs.c)         → dm-uuid-<uuid>
 *   md/uuid        md array UUID, %pU (md.c)               → md-uuid-<uuid>
 *   wwid           NVMe namespace: eui./nvme./uuid. (nvme) → as is
 *   device/wwid    SCSI/SATA VPD page 0x83: naa./eui./t10. → as is
 *   serial         virtio-blk serial (virtio_blk.c)        → virtio-<serial>
 *   device/serial  MMC/SD card serial (mmc core)           → serial-<serial>
 *
 * A partition (it has a `partition` attribute) is its disk's identity plus
 * `-part<N>`. Loop devices and anything else have no identity.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import type { DiskIdentity } from './adapter.js';
import { abortedError } from './errors.js';

/** The module's limit on main_id (REMAP_MAIN_ID_MAX). */
export const MAIN_ID_MAX_LENGTH = 63;

/**
 * The characters an identity keeps verbatim in its main_id. Conservative on
 * purpose: device-mapper splits table words on whitespace and unescapes `\`,
 * and `dmsetup create --concise` separates fields with `,` and `;`.
 */
const EXACT_MAIN_ID = /^[A-Za-z0-9._-]{1,63}$/;
const OUTSIDE_CHARSET = /[^A-Za-z0-9._-]+/g;
/** Readable head kept in the hashed form: 46 + "+" + 16 hex digits = 63. */
const HASHED_HEAD_LENGTH = 46;
const HASH_HEX_DIGITS = 16;

/**
 * The main_id for an identity: the identity itself when it is 1–63 characters
 * of [A-Za-z0-9._-]; otherwise the hashed form
 * `<head>+<16 hex digits>`, where head is the identity with every run of other
 * characters replaced by `_`, cut to 46 characters, and the digits begin the
 * SHA-256 of the identity's UTF-8 bytes. `+` appears only in the hashed form,
 * so the two forms never collide.
 */
export function mainIdOf(identity: string): string {
  if (identity === '') throw new RangeError('an identity is never empty');
  if (EXACT_MAIN_ID.test(identity)) return identity;
  const head = identity.replace(OUTSIDE_CHARSET, '_').slice(0, HASHED_HEAD_LENGTH);
  const hash = createHash('sha256').update(identity, 'utf8').digest('hex').slice(0, HASH_HEX_DIGITS);
  return `${head}+${hash}`;
}

/** The filesystem calls identity resolution makes (injected by tests, which build a fake sysfs). */
export interface IdentityFs {
  readFile(path: string): Promise<string>;
  realpath(path: string): Promise<string>;
  readdir(path: string): Promise<string[]>;
}

/** The real file system; block-device.ts extends it. */
export const nodeIdentityFs: IdentityFs = {
  readFile: (path) => readFile(path, 'utf8'),
  realpath: (path) => realpath(path),
  readdir: (path) => readdir(path),
};

/**
 * The names in a device's sysfs directory, or none when it cannot be listed.
 * Listing once and reading only what is there matters: most devices have
 * few of the attributes looked for (a loop device none of its seven), and
 * each failed open costs an error object and a syscall, per device per pass.
 */
function listDirectory(fs: IdentityFs, directory: string): Promise<Set<string>> {
  return fs.readdir(directory).then(
    (names) => new Set(names),
    () => new Set(),
  );
}

/** A sysfs attribute, or undefined when it is absent or its driver refuses (SCSI without VPD page 0x83: ENXIO). */
function readAttribute(fs: IdentityFs, path: string): Promise<string | undefined> {
  return fs.readFile(path).then(
    (text) => text,
    () => undefined,
  );
}

/** How each whole-disk source turns its attribute into an identity (undefined: not usable), in order. */
const WHOLE_DISK_SOURCES = {
  'dm/uuid': (value) => `dm-uuid-${value}`,
  // An md array that is not assembled yet shows the null UUID.
  'md/uuid': (value) => (/^[0-]+$/.test(value) ? undefined : `md-uuid-${value}`),
  wwid: (value) => value,
  'device/wwid': (value) => value,
  serial: (value) => `virtio-${value}`,
  'device/serial': (value) => `serial-${value}`,
} satisfies Record<string, (value: string) => string | undefined>;

export type IdentityAttribute = keyof typeof WHOLE_DISK_SOURCES;

/** The identity a whole disk's sysfs `attribute` holding `text` gives, if any (the simulator uses it too). */
export function identityFrom(attribute: IdentityAttribute, text: string): string | undefined {
  const value = text.trim();
  return value === '' ? undefined : WHOLE_DISK_SOURCES[attribute](value);
}

/**
 * The identity of the block device `majorMinor` ("8:17"), or undefined when
 * it has none. Never throws for a missing or unreadable attribute: a device
 * without identity is an answer, not an error.
 */
export async function resolveDiskIdentity(
  majorMinor: string,
  signal?: AbortSignal,
  fs: IdentityFs = nodeIdentityFs,
  sysfsRoot = '/sys',
): Promise<DiskIdentity | undefined> {
  if (signal?.aborted) throw abortedError('resolveDiskIdentity', majorMinor);
  const node = join(sysfsRoot, 'dev/block', majorMinor);
  const names = await listDirectory(fs, node);
  const partition = names.has('partition')
    ? (await readAttribute(fs, join(node, 'partition')))?.trim()
    : undefined;
  if (partition === undefined || partition === '') return identityOfDisk(node, fs, names);
  // /sys/dev/block/M:m links to .../block/sda/sda1: the disk is the real parent directory.
  let disk;
  try {
    disk = dirname(await fs.realpath(node));
  } catch {
    return undefined;
  }
  const whole = await identityOfDisk(disk, fs, await listDirectory(fs, disk));
  if (!whole) return undefined;
  const value = `${whole.value}-part${partition}`;
  return { source: `${whole.source} + ${join(node, 'partition')}`, value, mainId: mainIdOf(value) };
}

/** The identity of the whole disk at `directory`, whose entries are `names`. */
async function identityOfDisk(
  directory: string,
  fs: IdentityFs,
  names: ReadonlySet<string>,
): Promise<DiskIdentity | undefined> {
  for (const attribute of Object.keys(WHOLE_DISK_SOURCES) as IdentityAttribute[]) {
    // "device/wwid" is there only when "device" is.
    if (!names.has(attribute.split('/')[0] ?? attribute)) continue;
    const source = join(directory, attribute);
    const text = await readAttribute(fs, source);
    const value = text === undefined ? undefined : identityFrom(attribute, text);
    if (value !== undefined) return { source, value, mainId: mainIdOf(value) };
  }
  return undefined;
}
