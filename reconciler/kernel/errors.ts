/** Small constructors for the KernelErrors both adapters raise, so their codes and wording match. */
import { KernelError, OWNED_UUID_PREFIX } from './adapter.js';
import type { DesiredTable } from './adapter.js';

export function isOwnedUuid(uuid: string): boolean {
  return uuid.startsWith(OWNED_UUID_PREFIX);
}

export function notOwnedError(operation: string, name: string, uuid: string): KernelError {
  const shown = uuid === '' ? 'no UUID' : `UUID "${uuid}"`;
  return new KernelError(
    `refusing to ${operation} ${name}: it has ${shown}, not the ${OWNED_UUID_PREFIX} prefix of devices this tool manages`,
    operation,
    name,
    'ENOTOWNED',
  );
}

/**
 * Throws unless a device that has `current` as its UUID (undefined: no such
 * device) may be given `uuid`: only a device with none, only an owned one.
 */
export function refuseSetUuid(name: string, uuid: string, current: string | undefined): void {
  if (current === undefined) throw noSuchDeviceError('setUuid', name);
  if (!isOwnedUuid(uuid)) throw notOwnedError('setUuid', name, uuid);
  if (isOwnedUuid(current)) {
    throw new KernelError(`setUuid ${name}: it already has the UUID "${current}"`, 'setUuid', name, 'EEXIST');
  }
  if (current !== '') throw notOwnedError('setUuid', name, current);
}

export function noSuchDeviceError(operation: string, name: string): KernelError {
  return new KernelError(`${operation} ${name}: no such device`, operation, name, 'ENXIO');
}

export function deviceOpenError(name: string, openCount: number): KernelError {
  return new KernelError(`remove ${name}: device is open (${openCount})`, 'remove', name, 'EBUSY');
}

/** A create whose name, or else whose UUID, another device already holds. */
export function alreadyExistsError(desired: DesiredTable, uuidHolder?: string): KernelError {
  const what =
    uuidHolder === undefined
      ? 'a device with this name exists'
      : `UUID ${desired.uuid} is used by ${uuidHolder}`;
  return new KernelError(`create ${desired.name}: ${what}`, 'create', desired.name, 'EEXIST');
}

export function abortedError(operation: string, name?: string): KernelError {
  const what = name === undefined ? operation : `${operation} ${name}`;
  return new KernelError(`${what} was aborted`, operation, name, 'ECANCELED');
}

export function timedOutError(operation: string, name: string | undefined, timeoutMs: number): KernelError {
  const what = name === undefined ? operation : `${operation} ${name}`;
  return new KernelError(`${what} timed out after ${timeoutMs} ms`, operation, name, 'ETIMEDOUT');
}
