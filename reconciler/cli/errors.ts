/**
 * How commands end. Commands never call process.exit: they print what they
 * have to say and throw ExitError, and main.ts alone turns it into an exit
 * status. That keeps every command callable from tests.
 */

/** Exit statuses shared by every verb. */
export const ExitCode = {
  /** Everything is fine (warnings allowed). */
  ok: 0,
  /** The input is wrong (an invalid spec, a refused change). */
  failure: 1,
  /** The command could not do its job: bad usage, a missing path, an I/O error. */
  usage: 2,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Stop with this exit status; whatever had to be said is already printed. */
export class ExitError extends Error {
  override name = 'ExitError';
  constructor(readonly code: number) {
    super(`exit with status ${code}`);
  }
}

/** Wrong flags or arguments: printed as "error: message" and exits with ExitCode.usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}
