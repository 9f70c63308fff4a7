/**
 * How commands end. Commands never call process.exit: they print what they
 * have to say and throw ExitError (or UsageError, EnvironmentError), and
 * main.ts alone turns it into an exit status. That keeps every command
 * callable from tests.
 *
 * One table of exit statuses serves every verb. A result (0, 1, 2) never
 * shares a number with a failure to get one: those take sysexits.h's numbers
 * (64 and up), so a script can tell "the plan has changes" from "the flags
 * were wrong" from "this host has no device-mapper".
 */
import { DiagnosticCode, isError, isIoDiagnostic } from '../spec/diagnostics.js';
import type { Diagnostic } from '../spec/types.js';

export const ExitCode = {
  /** validate: all valid; plan: no changes; apply: every device converged; run: stopped cleanly. */
  ok: 0,
  /** A spec is invalid, a change is refused, or a device did not converge (failed, waits, blocked). */
  notConverged: 1,
  /** plan only (like terraform plan -detailed-exitcode): changes pending. */
  changesPending: 2,
  /** EX_USAGE: unknown option, missing or bad argument. */
  usage: 64,
  /** EX_UNAVAILABLE: device-mapper cannot be used (no dmsetup, no device-mapper in the kernel, no module). */
  unavailable: 69,
  /** EX_SOFTWARE: a bug in dm-remap. */
  internal: 70,
  /** EX_IOERR: the config dir or a spec file cannot be read, or an output file written. */
  ioError: 74,
  /** EX_TEMPFAIL: work left unfinished (apply's --timeout, run stopped with operations in flight); try again. */
  unfinished: 75,
  /** EX_NOPERM: not root, or config a non-root user can change. */
  noPermission: 77,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The table as `--help` prints it and README.md's "Exit codes" repeats it, in code order. */
export const EXIT_CODE_TABLE: readonly (readonly [ExitCode, string])[] = [
  [ExitCode.ok, 'success: valid, no changes, every device converged, stopped cleanly'],
  [
    ExitCode.notConverged,
    'a spec is invalid, a change refused, a device did not converge; status: a device not Ready, or Degraded or Failed',
  ],
  [ExitCode.changesPending, 'plan only: changes pending (apply would change the kernel)'],
  [ExitCode.usage, 'usage error: unknown option, missing or bad argument'],
  [ExitCode.unavailable, 'device-mapper unusable: no dmsetup or device-mapper, module not installed'],
  [ExitCode.internal, 'internal error: a bug in dm-remap (please report it)'],
  [
    ExitCode.ioError,
    'the config dir or a spec file cannot be read; metrics: the --textfile cannot be written',
  ],
  [ExitCode.unfinished, "unfinished: apply's --timeout passed, or run stopped with work in flight"],
  [ExitCode.noPermission, 'permission: not root, or config that a non-root user can change'],
];

/** The exit-status paragraph every verb's --help ends with. */
export function exitCodeHelp(): string {
  const rows = EXIT_CODE_TABLE.map(([code, meaning]) => `  ${String(code).padStart(2)}  ${meaning}`);
  return ['', 'Exit status (the same for every dm-remap command):', ...rows].join('\n') + '\n';
}

/**
 * What loaded specs alone say about the exit status: the config could not be
 * read (74), a non-root user can change it (77), a spec is invalid (1), or
 * nothing against them (0). Checked in that order, the order in which an
 * operator has to fix them.
 */
export function exitCodeOfDiagnostics(diagnostics: readonly Diagnostic[]): ExitCode {
  if (diagnostics.some(isIoDiagnostic)) return ExitCode.ioError;
  if (diagnostics.some((d) => isError(d) && d.code === DiagnosticCode.insecurePermissions)) {
    return ExitCode.noPermission;
  }
  if (diagnostics.some(isError)) return ExitCode.notConverged;
  return ExitCode.ok;
}

/** Stop with this exit status; whatever had to be said is already printed. */
export class ExitError extends Error {
  override name = 'ExitError';
  constructor(readonly code: ExitCode) {
    super(`exit with status ${code}`);
  }
}

/** Wrong flags or arguments: printed as "error: message" and exits with ExitCode.usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The host cannot do what was asked (no dmsetup, no device-mapper, not root):
 * printed as one line, "dm-remap: message", never with a stack, and exits
 * with `code`.
 */
export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
  constructor(
    message: string,
    readonly code: typeof ExitCode.unavailable | typeof ExitCode.noPermission,
  ) {
    super(message);
  }
}
