/**
 * Diagnostic codes and formatting. Codes are part of the `--output json`
 * contract: add new ones, never rename.
 */
import type { Diagnostic, Severity } from './types.js';

export const DiagnosticCode = {
  // Files and YAML
  pathNotFound: 'path-not-found',
  noSpecFiles: 'no-spec-files',
  ioError: 'io-error',
  insecurePermissions: 'insecure-permissions',
  fileTooLarge: 'file-too-large',
  emptyFile: 'empty-file',
  binaryContent: 'binary-content',
  invalidUtf8: 'invalid-utf8',
  yamlSyntax: 'yaml-syntax',
  duplicateKey: 'duplicate-key',
  tooManyAliases: 'too-many-aliases',
  unknownAlias: 'unknown-alias',
  nestingTooDeep: 'nesting-too-deep',
  emptyDocument: 'empty-document',
  tooManyProblems: 'too-many-problems',
  tooManyDocuments: 'too-many-documents',
  // Schema
  unknownField: 'unknown-field',
  missingField: 'missing-field',
  wrongType: 'wrong-type',
  invalidValue: 'invalid-value',
  badApiVersion: 'bad-api-version',
  badKind: 'bad-kind',
  // Meaning, within one document and across all of them
  invalidName: 'invalid-name',
  duplicateName: 'duplicate-name',
  sharedDevice: 'shared-device',
  sameMainAndSpare: 'same-main-and-spare',
  unstableDevicePath: 'unstable-device-path',
} as const;

export type DiagnosticCode = (typeof DiagnosticCode)[keyof typeof DiagnosticCode];

/** Codes that mean "could not look at the input at all" rather than "the input is wrong". */
const IO_CODES: ReadonlySet<string> = new Set([DiagnosticCode.pathNotFound, DiagnosticCode.ioError]);

export function isIoDiagnostic(d: Diagnostic): boolean {
  return d.severity === 'error' && IO_CODES.has(d.code);
}

export function isError(d: Diagnostic): boolean {
  return d.severity === 'error';
}

/** Compiler style: "file:line:col: error: message", or "file: error: message" for whole-file problems. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line === undefined ? d.file : `${d.file}:${d.line}:${d.column ?? 1}`;
  return `${where}: ${d.severity}: ${d.message}`;
}

/** Stable order for output: by file, then position, errors before warnings at the same place. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    (a.line ?? 0) - (b.line ?? 0) ||
    (a.column ?? 0) - (b.column ?? 0) ||
    severityRank(a.severity) - severityRank(b.severity)
  );
}

function severityRank(severity: Severity): number {
  return severity === 'error' ? 0 : 1;
}
