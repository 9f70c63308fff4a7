/**
 * Reads one spec file within a byte limit, and only the file whose ownership
 * and mode were checked.
 *
 * Synchronous on purpose: a spec file is small and local, and at thousands of
 * files the promise round trip of each open, fstat, read and close cost more
 * than the reads themselves.
 */
import fs from 'node:fs';
import { DiagnosticCode } from './diagnostics.js';

/** The stat fields that say which file was checked. */
export interface CheckedFile {
  dev: bigint;
  ino: bigint;
}

export type BoundedRead =
  | { bytes: Uint8Array }
  | {
      problem: { code: typeof DiagnosticCode.fileTooLarge | typeof DiagnosticCode.ioError; message: string };
    };

/**
 * Reads at most maxBytes (+1 to detect more): a file that grows after stat cannot exhaust memory, and
 * the buffer starts at the size fstat reports (growing only if the file did), so a small file costs a
 * small buffer. A file swapped in between the check and the open (through a symlink into a directory
 * someone else can write) is refused.
 */
export function readBounded(file: string, checked: CheckedFile, maxBytes: number): BoundedRead {
  const tooLarge = (size: string): BoundedRead => ({
    problem: {
      code: DiagnosticCode.fileTooLarge,
      message: `file is ${size}; spec files are limited to ${maxBytes} bytes`,
    },
  });
  const ioProblem = (message: string): BoundedRead => ({
    problem: { code: DiagnosticCode.ioError, message },
  });
  let fd: number | undefined;
  try {
    // O_NONBLOCK: if the file was swapped for a FIFO after it was checked, opening must not hang.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const opened = fs.fstatSync(fd, { bigint: true });
    if (!opened.isFile()) return ioProblem('is no longer a regular file');
    if (opened.dev !== checked.dev || opened.ino !== checked.ino) {
      return ioProblem('was replaced while being read; not used (run again)');
    }
    if (opened.size > maxBytes) return tooLarge(`${opened.size} bytes`);
    // +1: reading into a full buffer is how growth past the size (or past the limit) shows.
    let buffer = Buffer.allocUnsafe(Number(opened.size) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > maxBytes) return tooLarge(`more than ${maxBytes} bytes`);
        const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxBytes + 1));
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const bytesRead = fs.readSync(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return { bytes: buffer.subarray(0, length) };
  } catch (cause) {
    return ioProblem(`cannot be read: ${cause instanceof Error ? cause.message : String(cause)}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
