/**
 * `dm-remap validate [PATH...]`: checks spec files the way the daemon would
 * read them, touching no device. Fit for a pre-commit hook or CI job in a
 * GitOps repository.
 *
 * Permissions: the daemon refuses a config dir or file that a non-root user
 * can change. `validate` applies the same rule to the live config dir (no
 * PATH given), so it predicts what the daemon will do. Explicit PATHs are
 * usually a checkout owned by a normal user, so there insecure permissions
 * are only a warning unless --strict-permissions is given.
 */
import { ExitCode, ExitError, exitCodeOfDiagnostics, UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { resolveConfigDir } from '../options.js';
import { formatDiagnostic, loadSpecs } from '../../spec/index.js';
import { printDiagnostics, summaryLine } from '../output.js';
import type { LoadResult } from '../../spec/index.js';
import type { ValidateOptions } from '../commands/validate.js';

export async function validate(paths: readonly string[], options: ValidateOptions, io: CliIo): Promise<void> {
  if (options.strictPermissions === true && options.allowInsecurePermissions === true) {
    throw new UsageError('--strict-permissions and --allow-insecure-permissions contradict each other');
  }
  const explicit = paths.length > 0;
  if (explicit && options.configDir !== undefined) {
    throw new UsageError('give either PATHs or --config-dir, not both');
  }
  const targets = explicit ? [...paths] : [resolveConfigDir(options, io.env)];
  const allowInsecurePermissions = explicit
    ? options.strictPermissions !== true
    : options.allowInsecurePermissions === true;

  const result = await loadSpecs(targets, {
    allowInsecurePermissions,
    noSpecFiles: options.requireSpecs === true ? 'error' : 'warning',
  });

  if (options.output === 'json') {
    const { devices, diagnostics, files } = result;
    io.stdout(`${JSON.stringify({ devices, diagnostics, files }, null, 2)}\n`);
  } else {
    printText(result, options.quiet === true, io);
  }

  // Warnings alone keep it 0; an unreadable path is 74, insecure permissions (when errors) 77, an invalid spec 1.
  const status = exitCodeOfDiagnostics(result.diagnostics);
  if (status !== ExitCode.ok) throw new ExitError(status);
}

function printText(result: LoadResult, quiet: boolean, io: CliIo): void {
  if (quiet) {
    printDiagnostics(io, result.diagnostics, true);
    return;
  }
  // Problems and skipped files in one list by file, so a skipped file shows up where it sits.
  const lines = [
    ...result.diagnostics.map((diagnostic) => ({
      file: diagnostic.file,
      text: formatDiagnostic(diagnostic),
    })),
    ...result.files
      .filter((file) => file.status === 'ignored')
      .map(({ file, reason }) => ({ file, text: `${file}: note: ignored (${reason ?? 'not a spec file'})` })),
  ];
  // Stable: the diagnostics of one file keep their order (by position).
  lines.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const { text } of lines) io.stderr(`${text}\n`);
  io.stdout(`${summaryLine(result)}\n`);
}
