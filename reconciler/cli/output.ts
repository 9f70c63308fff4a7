/** Printing spec diagnostics, shared by every verb that loads specs. */
import { formatDiagnostic, isError } from '../spec/index.js';
import type { Diagnostic, LoadResult } from '../spec/index.js';
import type { CliIo } from './io.js';

/** One compiler-style line per diagnostic on stderr; `errorsOnly` drops warnings (--quiet). */
export function printDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[], errorsOnly = false): void {
  for (const diagnostic of diagnostics) {
    if (errorsOnly && !isError(diagnostic)) continue;
    io.stderr(`${formatDiagnostic(diagnostic)}\n`);
  }
}

/** "3 files, 2 devices, 1 error, 0 warnings", plus how many files were skipped. */
export function summaryLine(result: LoadResult): string {
  const files = result.files.filter((file) => file.status !== 'ignored').length;
  const ignored = result.files.length - files;
  const errors = result.diagnostics.filter(isError).length;
  const warnings = result.diagnostics.length - errors;
  const counts = [
    count(files, 'file'),
    count(result.devices.length, 'device'),
    count(errors, 'error'),
    count(warnings, 'warning'),
  ].join(', ');
  return ignored > 0 ? `${counts} (${count(ignored, 'file')} ignored)` : counts;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
