/**
 * Bytes of a spec file → text. Pure. Binary junk (a NUL byte) and invalid
 * UTF-8 are refused with the position of the first bad byte, before the YAML
 * parser can turn them into confusing errors.
 */
import { DiagnosticCode } from './diagnostics.js';
import type { Diagnostic } from './types.js';

export type DecodeResult =
  { text: string; diagnostic?: undefined } | { text?: undefined; diagnostic: Diagnostic };

export function decodeSpecBytes(file: string, bytes: Uint8Array): DecodeResult {
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    return {
      diagnostic: {
        severity: 'error',
        code: DiagnosticCode.binaryContent,
        message: 'file contains a NUL byte: it looks like binary data, not a YAML spec',
        file,
        ...positionOfByte(bytes, nul),
      },
    };
  }
  const invalid = firstInvalidUtf8Byte(bytes);
  if (invalid !== undefined) {
    const byte = (bytes[invalid] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    return {
      diagnostic: {
        severity: 'error',
        code: DiagnosticCode.invalidUtf8,
        message: `file is not valid UTF-8 (byte 0x${byte} at offset ${invalid}); save it as UTF-8`,
        file,
        ...positionOfByte(bytes, invalid),
      },
    };
  }
  return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
}

/**
 * A valid UTF-8 prefix survives decode+encode unchanged; the first invalid
 * byte becomes U+FFFD, so the first difference is the first invalid byte.
 */
function firstInvalidUtf8Byte(bytes: Uint8Array): number | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const roundTrip = Buffer.from(buffer.toString('utf8'), 'utf8');
  if (roundTrip.equals(buffer)) return undefined;
  const length = Math.min(buffer.length, roundTrip.length);
  for (let i = 0; i < length; i++) if (buffer[i] !== roundTrip[i]) return i;
  return length;
}

function positionOfByte(bytes: Uint8Array, offset: number): { line: number; column: number } {
  const before = Buffer.from(bytes.buffer, bytes.byteOffset, offset).toString('utf8');
  const lastNewline = before.lastIndexOf('\n');
  const line = before.split('\n').length;
  return { line, column: [...before.slice(lastNewline + 1)].length + 1 };
}
