/**
 * What device-mapper, dmsetup and udev accept as names and paths. Pure rules
 * shared by the schema messages and the per-document checks; the schema's
 * patterns say the same (tests/spec/rules.test.ts keeps them in agreement).
 */
import { OWNED_UUID_PREFIX } from '../kernel/adapter.js';
import { describeDisallowed } from './characters.js';

/** DM_NAME_LEN is 128 bytes including the terminating NUL. */
export const DM_MAX_NAME_BYTES = 127;
/** DM_UUID_LEN is 129 bytes including the NUL; our UUID is OWNED_UUID_PREFIX + name. */
export const DM_MAX_UUID_BYTES = 128;
/** The binding limit: the name must fit both as a name and inside the UUID. */
export const MAX_DEVICE_NAME_BYTES = Math.min(
  DM_MAX_NAME_BYTES,
  DM_MAX_UUID_BYTES - OWNED_UUID_PREFIX.length,
);

/**
 * The characters of a name: LVM's safe set. The kernel itself only refuses '/'
 * (and the names below), but a name with a space, a shell metacharacter or an
 * invisible character is misread by dmsetup, udev rules and scripts, or looks
 * like another name in a listing.
 */
const NAME_CHARACTER = /^[A-Za-z0-9+_.-]$/;
export const ALLOWED_NAME_CHARACTERS = 'A-Z a-z 0-9 + _ . -';

/** Why `name` cannot be a device-mapper name here, in words that complete "metadata.name …"; undefined if it is fine. */
export function deviceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name === '.' || name === '..') return `must not be '.' or '..'`;
  if (name === 'control') {
    return "must not be 'control' (the kernel refuses it: /dev/mapper/control is device-mapper's own node)";
  }
  if (name.startsWith('-')) return "must not start with '-' (dmsetup would read it as an option)";
  const disallowed = describeDisallowed(name, (char) => NAME_CHARACTER.test(char));
  if (disallowed !== '') return `contains ${disallowed}; only ${ALLOWED_NAME_CHARACTERS} are allowed`;
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_DEVICE_NAME_BYTES) {
    return (
      `is ${bytes} bytes long; the limit is ${MAX_DEVICE_NAME_BYTES} bytes ` +
      `so that the dm UUID ${OWNED_UUID_PREFIX}<name> fits in ${DM_MAX_UUID_BYTES} bytes`
    );
  }
  return undefined;
}

/** C0 controls, DEL and C1 controls: no device node or udev link has them, and they garble logs and terminals. */
function isPathControlCharacter(char: string): boolean {
  const code = char.codePointAt(0)!;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/**
 * Why `devicePath` cannot name a device, in words that complete "spec.mainDevice …"; undefined if it can.
 * A trailing '/' is refused rather than dropped: the kernel resolves "/dev/sdb/" to ENOTDIR, and a path
 * that is compared with other paths must mean one thing.
 */
export function devicePathProblem(devicePath: string): string | undefined {
  if (!devicePath.startsWith('/')) return 'must be an absolute path such as /dev/disk/by-id/...';
  const control = describeDisallowed(devicePath, (char) => !isPathControlCharacter(char));
  if (control !== '') return `contains ${control}; a device path has no control characters`;
  if (devicePath.endsWith('/')) {
    const trimmed = devicePath.replace(/\/+$/, '');
    const hint = trimmed === '' ? '' : `; write ${trimmed}`;
    return `must not end with '/' (a device is not a directory${hint})`;
  }
  return undefined;
}

/**
 * Kernel names handed out in probe order (sda, hdb, vdc, xvdd, nvme0n1,
 * mmcblk0 and their partitions) can point at a different disk after a
 * reboot or a hot-plug; remapping onto the wrong disk destroys data.
 */
const UNSTABLE_DEVICE_PATH = /^\/dev\/(?:(?:sd|hd|vd|xvd)[a-z]+\d*|nvme\d+n\d+(?:p\d+)?|mmcblk\d+(?:p\d+)?)$/;

export function isUnstableDevicePath(devicePath: string): boolean {
  return UNSTABLE_DEVICE_PATH.test(devicePath);
}
