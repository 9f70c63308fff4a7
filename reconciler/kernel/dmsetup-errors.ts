/**
 * Turns a failed dmsetup/modprobe run into a KernelError with a stable code.
 * dmsetup reports the kernel's errno as strerror text ("device-mapper: remove
 * ioctl on x failed: Device or resource busy"); the text is the only carrier.
 */
import { KernelError } from './adapter.js';
import { ProcessFailure } from './process.js';

/** strerror texts dmsetup prints → codes; checked in order, so the longer "No such device or address" wins. */
const ERRNO_TEXTS: readonly (readonly [RegExp, string])[] = [
  [/Device or resource busy/i, 'EBUSY'],
  [/No such device or address/i, 'ENXIO'],
  [/Device does not exist|No such device\b/i, 'ENXIO'],
  [/File exists/i, 'EEXIST'],
  [/Invalid argument/i, 'EINVAL'],
  // EILSEQ: the remap target's verdict on a spare whose metadata is corrupt or foreign.
  [/Invalid or incomplete multibyte or wide character/i, 'EILSEQ'],
  [/Operation not permitted|Permission denied/i, 'EPERM'],
  [/Cannot allocate memory/i, 'ENOMEM'],
  // ENOSPC: a proactive remap found no free slot left on the spare (the blocks that fit were moved).
  [/No space left on device/i, 'ENOSPC'],
  [/not found in directory|Module .* not found/i, 'ENOENT'],
];

export function kernelErrorFromProcess(error: unknown, operation: string, device?: string): KernelError {
  if (error instanceof KernelError) {
    // A batch's error, now attributed to one of its devices.
    const attributed = device ?? error.device;
    return attributed === error.device
      ? error
      : new KernelError(error.message, error.operation, attributed, error.code);
  }
  if (!(error instanceof ProcessFailure)) {
    return new KernelError(
      `${operation}: ${error instanceof Error ? error.message : String(error)}`,
      operation,
      device,
    );
  }
  const code = codeOf(error);
  return new KernelError(error.message, operation, device, code);
}

function codeOf(failure: ProcessFailure): string {
  if (failure.reason === 'timeout') return 'ETIMEDOUT';
  if (failure.reason === 'aborted') return 'ECANCELED';
  if (failure.reason === 'spawn') return 'ENOENT';
  const text = `${failure.stderr}\n${failure.stdout}`;
  return ERRNO_TEXTS.find(([pattern]) => pattern.test(text))?.[1] ?? 'EIO';
}
