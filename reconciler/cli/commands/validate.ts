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
import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { ExitCode, ExitError, exitCodeOfDiagnostics, UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import {
  addAllowInsecurePermissionsOption,
  addConfigDirOption,
  addOutputOption,
  resolveConfigDir,
} from '../options.js';
import type { ConfigDirOptions, OutputOptions, PermissionOptions } from '../options.js';
import { formatDiagnostic, loadSpecs } from '../../spec/index.js';
import { printDiagnostics, summaryLine } from '../output.js';
import type { LoadResult } from '../../spec/index.js';

export interface ValidateOptions extends ConfigDirOptions, PermissionOptions, OutputOptions {
  quiet?: boolean;
  strictPermissions?: boolean;
  requireSpecs?: boolean;
}

const HELP_AFTER = `
Without PATH, validates the config dir the daemon reads. Directories are read
like the daemon reads them: only *.yaml and *.yml files; hidden files, editor
backups (*~, *.swp, #*#) and package leftovers (*.dpkg-*, *.rpmnew, ...) are
skipped and named (a "note: ignored" line with the reason). A directory in
which no spec file is read is a warning ("no spec files in DIR"), or an error
(exit 1) with --require-specs: in CI, an empty or mistyped directory then fails
the check instead of passing it.

Permissions: the config dir, its files and every directory above them must be
owned by root and not writable by group or others (a root-owned sticky
directory such as /tmp is accepted above). This is enforced (an error) for the
config dir; for explicit PATHs it is a warning unless --strict-permissions is
given.

Output: one line per problem on stderr, "file:line:col: error|warning: message",
and one "file: note: ignored (reason)" per file skipped, then a summary line on
stdout. With --output json, one JSON object on stdout:
  {"devices": [DeviceSpec...], "diagnostics": [Diagnostic...], "files": [FileResult...]}
where a Diagnostic is {severity, code, message, file, line?, column?, device?}
and a FileResult is {file, status: "valid"|"invalid"|"ignored", devices: [name...],
reason?} (reason: why an ignored file was skipped).

Examples:
  dm-remap validate                          # the live config dir (/etc/dm-remap.d)
  dm-remap validate devices/                 # a directory in a Git checkout
  dm-remap validate a.yaml b.yaml --quiet    # pre-commit: print errors only
  dm-remap validate devices/ --output json   # for scripts
  dm-remap validate --require-specs devices/ # CI: a directory without specs fails
`;

export const command: CliCommand = {
  register(program: Command, io: CliIo): void {
    const verb = program
      .command('validate')
      .summary('check spec files without touching any device')
      .description('Check RemapDevice spec files: YAML syntax, the schema, and conflicts between devices.')
      .argument('[paths...]', 'spec files or directories (default: the config dir)');
    addConfigDirOption(verb);
    addOutputOption(verb);
    verb
      .option('-q, --quiet', 'print errors only: no warnings, no summary')
      .option('--strict-permissions', 'treat insecure permissions of explicit PATHs as errors')
      .option('--require-specs', 'a directory holding no spec file is an error, not a warning');
    addAllowInsecurePermissionsOption(verb);
    verb.addHelpText('after', HELP_AFTER).action(async (paths: string[], options: ValidateOptions) => {
      await validate(paths, options, io);
    });
  },
};

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
