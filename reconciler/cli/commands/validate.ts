/**
 * `dm-remap validate` as commander sees it: arguments, options and help.
 * What it does is in actions/validate.ts, imported only when it runs.
 */
import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { addAllowInsecurePermissionsOption, addConfigDirOption, addOutputOption } from '../options.js';
import type { ConfigDirOptions, OutputOptions, PermissionOptions } from '../options.js';

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
      const { validate } = await import('../actions/validate.js');
      await validate(paths, options, io);
    });
  },
};
