/**
 * What device-mapper and udev accept as names and paths. Pure rules shared by
 * the schema messages and the per-document checks.
 */
import { OWNED_UUID_PREFIX } from '../kernel/adapter.js';

/** DM_NAME_LEN is 128 bytes including the terminating NUL. */
export const DM_MAX_NAME_BYTES = 127;
/** DM_UUID_LEN is 129 bytes including the NUL; our UUID is OWNED_UUID_PREFIX + name. */
export const DM_MAX_UUID_BYTES = 128;
/** The binding limit: the name must fit both as a name and inside the UUID. */
export const MAX_DEVICE_NAME_BYTES = Math.min(
  DM_MAX_NAME_BYTES,
  DM_MAX_UUID_BYTES - OWNED_UUID_PREFIX.length,
);

/** Why device-mapper would refuse `name`, in words that complete "metadata.name …"; undefined if it is fine. */
export function deviceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name === '.' || name === '..') return `must not be '.' or '..'`;
  if (name.includes('/')) return `must not contain '/'`;
  const control = [...name].find((char) => isControlCharacter(char));
  if (control !== undefined) {
    const code = control.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return `must not contain control characters (found U+${code})`;
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_DEVICE_NAME_BYTES) {
    return (
      `is ${bytes} bytes long; the limit is ${MAX_DEVICE_NAME_BYTES} bytes ` +
      `so that the dm UUID ${OWNED_UUID_PREFIX}<name> fits in ${DM_MAX_UUID_BYTES} bytes`
    );
  }
  return undefined;
}

function isControlCharacter(char: string): boolean {
  const code = char.codePointAt(0)!;
  return code < 0x20 || code === 0x7f;
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
