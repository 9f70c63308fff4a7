/**
 * Generates what the Debian package ships besides the code, from the sources
 * that already say it, so none of it can drift:
 *   - dm-remap(8) from the CLI's own commander definitions (the text --help
 *     prints: summaries, descriptions, options, defaults, exit statuses);
 *   - dm-remap.d(5) from etc/dm-remap.d/README and schemas/README.md;
 *   - the bash completion, from the same commander definitions;
 *   - the "bundled npm packages" part of debian/copyright, from esbuild's
 *     metafile (which files of which package went into the bundle).
 *
 * Usage: node --import=tsx/esm scripts/package/docs.ts OUT_DIR VERSION DATE METAFILE
 * Writes OUT_DIR/dm-remap.8, dm-remap.d.5, dm-remap.bash-completion, bundled.txt, licenses.txt.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { createProgram } from '../../reconciler/cli/program.js';
import type { CliIo } from '../../reconciler/cli/io.js';
import { EXIT_CODE_TABLE } from '../../reconciler/cli/errors.js';
import { allCommands } from '../../reconciler/cli/commands/index.js';

const [outDir, version, date, metafile] = process.argv.slice(2);
if (!outDir || !version || !date || !metafile) {
  process.stderr.write('usage: docs.ts OUT_DIR VERSION DATE METAFILE\n');
  process.exit(64);
}

const silentIo: CliIo = { stdout: () => undefined, stderr: () => undefined, env: {} };
const program = createProgram(silentIo, allCommands());
const verbs = program.commands.filter((verb) => verb.name() !== 'help');

/** roff-escapes running text: backslashes, and a leading dot or quote. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');
}

/** Markdown inline markup to roff: `code` and **strong** bold, links as their text. */
function inline(text: string): string {
  return roff(text.replace(/\[([^\]]+)\]\([^)]+\)/g, '$1'))
    .replace(/`([^`]+)`/g, '\\fB$1\\fR')
    .replace(/\*\*([^*]+)\*\*/g, '\\fB$1\\fR');
}

function visibleOptions(verb: Command): readonly Option[] {
  return verb.options.filter((option) => !option.hidden);
}

function optionItem(option: Option): string {
  const defaultText =
    option.defaultValue !== undefined && option.defaultValue !== false
      ? ` (default: ${String(option.defaultValue)})`
      : '';
  const choices = option.argChoices ? ` (one of: ${option.argChoices.join(', ')})` : '';
  return `.TP\n.B ${roff(option.flags)}\n${roff(option.description + choices + defaultText)}\n`;
}

function manPage8(): string {
  const lines = [
    `.TH DM\\-REMAP 8 "${date}" "dm-remap ${version}" "System Administration"`,
    '.SH NAME',
    'dm\\-remap \\- declarative manager for dm\\-remap devices (bad\\-sector remapping onto a spare)',
    '.SH SYNOPSIS',
    ...verbs.map(
      (verb) =>
        `.B dm\\-remap ${verb.name()}\n${roff(verb.usage().replace(/^\[options\]\s*/, '[OPTIONS] '))}\n.br`,
    ),
    '.SH DESCRIPTION',
    roff(program.description()),
    'Devices are declared as YAML files in',
    '.I /etc/dm\\-remap.d',
    '(see',
    '.BR dm\\-remap.d (5));',
    'the reconciler makes device\\-mapper match them and keeps it so. It never touches a device\\-mapper device',
    'it does not own (dm UUID prefix DMREMAP\\-), never changes a running device because of an invalid file, and',
    'refuses a change that would strand remapped data on a spare.',
    '.SH COMMANDS',
  ];
  for (const verb of verbs) {
    lines.push(
      `.SS ${roff(`dm-remap ${verb.name()} ${verb.usage()}`)}`,
      roff(verb.description() || verb.summary()),
    );
    const options = visibleOptions(verb);
    if (options.length > 0) lines.push('.RS', ...options.map(optionItem), '.RE');
  }
  lines.push(
    '.SH EXIT STATUS',
    'The same table for every command:',
    ...EXIT_CODE_TABLE.map(([code, meaning]) => `.TP\n.B ${code}\n${roff(meaning)}`),
    '.SH ENVIRONMENT',
    '.TP\n.B DM_REMAP_CONFIG_DIR\nthe config dir when \\-\\-config\\-dir is not given (default /etc/dm\\-remap.d)',
    '.TP\n.B DM_REMAP_STATE_DIR\nthe state dir when \\-\\-state\\-dir is not given (default /var/lib/dm\\-remap)',
    '.SH FILES',
    '.TP\n.I /etc/dm\\-remap.d/*.yaml\nthe declared devices, see\n.BR dm\\-remap.d (5)',
    '.TP\n.I /var/lib/dm\\-remap/devices/NAME.json\nwhat was last applied to each device and what its spare held',
    '.TP\n.I /run/dm\\-remap/lock\nthe single\\-instance lock: apply and run hold it while they may change device\\-mapper;',
    'a second apply waits for it up to its \\-\\-timeout, then exits 75; validate and plan never take it',
    '.TP\n.I /etc/default/dm\\-remap\noptions of the systemd units (DM_REMAP_ACTIVATE_OPTIONS, DM_REMAP_RUN_OPTIONS)',
    '.TP\n.I /usr/share/dm\\-remap/remapdevice.schema.json\nthe JSON Schema of a spec',
    '.SH SYSTEMD',
    '.B dm\\-remap\\-activate.service',
    'runs',
    '.B dm\\-remap apply',
    'once at boot, after udev has been triggered and before',
    '.BR local\\-fs\\-pre.target ,',
    'so filesystems on /dev/mapper/NAME mount from /etc/fstab. A device whose backing disk is missing is waited',
    'for up to the \\-\\-timeout in /etc/default/dm\\-remap (90 s), then reported; the others come up and the',
    'boot goes on.',
    '.B dm\\-remap.service',
    'runs',
    '.B dm\\-remap run',
    "(Type=notify: ready once the first pass has settled), which starts a late disk's device when the disk",
    'appears and repairs drift; reload it (SIGHUP) for a full pass.',
    '.SH SEE ALSO',
    '.BR dm\\-remap.d (5),',
    '.BR dmsetup (8),',
    '.BR dkms (8)',
    '',
  );
  return lines.join('\n');
}

/** A small Markdown subset (what the project's READMEs use) to man(7). */
function markdownToMan(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.split('\n');
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length > 0) out.push('.PP', inline(paragraph.join(' ')));
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('```')) {
      flush();
      out.push('.PP', '.RS', '.nf');
      for (i++; i < lines.length && !(lines[i] ?? '').startsWith('```'); i++) out.push(roff(lines[i] ?? ''));
      out.push('.fi', '.RE');
    } else if (/^#{1,2} /.test(line)) {
      flush();
      out.push(`.SH ${roff(line.replace(/^#+ /, '').toUpperCase())}`);
    } else if (/^#{3,} /.test(line)) {
      flush();
      out.push(`.SS ${roff(line.replace(/^#+ /, ''))}`);
    } else if (line.startsWith('|')) {
      flush();
      const cells = (row: string) =>
        row
          .replace(/^\||\|$/g, '')
          .split('|')
          .map((cell) => cell.trim());
      const header = cells(line);
      i++; // the | --- | separator
      for (i++; i < lines.length && (lines[i] ?? '').startsWith('|'); i++) {
        const [first = '', ...rest] = cells(lines[i] ?? '');
        const described = rest
          .map((cell, index) => (cell === '' ? '' : `${header[index + 1] ?? ''}: ${cell}`))
          .filter(Boolean);
        out.push('.TP', inline(first), inline(described.join('; ')));
      }
      i--;
    } else if (/^\s*- /.test(line)) {
      flush();
      const item = [line.replace(/^\s*- /, '')];
      while (
        i + 1 < lines.length &&
        /^ {2,}\S/.test(lines[i + 1] ?? '') &&
        !/^\s*- /.test(lines[i + 1] ?? '')
      ) {
        item.push((lines[++i] ?? '').trim());
      }
      out.push('.IP \\(bu 2', inline(item.join(' ')));
    } else if (line.trim() === '') {
      flush();
    } else {
      paragraph.push(line.trim());
    }
  }
  flush();
  return out.join('\n');
}

async function manPage5(): Promise<string> {
  const readme = await readFile('etc/dm-remap.d/README', 'utf8');
  const schema = await readFile('schemas/README.md', 'utf8');
  const body = (markdown: string) => markdown.replace(/^# .*\n/, '');
  return [
    `.TH DM\\-REMAP.D 5 "${date}" "dm-remap ${version}" "File Formats"`,
    '.SH NAME',
    'dm\\-remap.d \\- devices declared for dm\\-remap (RemapDevice YAML files)',
    '.SH SYNOPSIS',
    '.I /etc/dm\\-remap.d/*.yaml',
    '.SH DESCRIPTION',
    markdownToMan(body(readme)),
    markdownToMan(body(schema).replace(/^(\| --- .*)$/m, '$1')),
    '.SH SEE ALSO',
    '.BR dm\\-remap (8)',
    '',
  ].join('\n');
}

function bashCompletion(): string {
  const verbCases = verbs
    .map((verb) => {
      const flags = visibleOptions(verb)
        .flatMap((option) => [option.short, option.long])
        .filter((flag): flag is string => flag !== undefined);
      const withValues = visibleOptions(verb).filter((option) => option.required || option.optional);
      const choiceCases = withValues
        .filter((option) => option.argChoices)
        .map(
          (option) =>
            `\t\t${option.long}) COMPREPLY=($(compgen -W '${option.argChoices?.join(' ')}' -- "$cur")); return ;;`,
        );
      const dirOptions = withValues
        .filter((option) => /dir/.test(option.long ?? ''))
        .map((option) => option.long)
        .join('|');
      return [
        `\t${verb.name()})`,
        '\t\tcase "$prev" in',
        ...choiceCases.map((line) => `\t${line}`),
        ...(dirOptions ? [`\t\t${dirOptions}) COMPREPLY=($(compgen -d -- "$cur")); return ;;`] : []),
        '\t\tesac',
        `\t\tif [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W '${flags.join(' ')} --help' -- "$cur"))`,
        `\t\telse COMPREPLY=($(compgen -f -- "$cur")); fi`,
        '\t\t;;',
      ].join('\n');
    })
    .join('\n');
  return [
    '# bash completion for dm-remap(8); generated from its option definitions by scripts/package/docs.ts',
    '_dm_remap() {',
    '\tlocal cur prev verb i',
    '\tcur="${COMP_WORDS[COMP_CWORD]}"',
    '\tprev="${COMP_WORDS[COMP_CWORD-1]}"',
    '\tfor ((i = 1; i < COMP_CWORD; i++)); do',
    '\t\tcase "${COMP_WORDS[i]}" in -*) ;; *) verb="${COMP_WORDS[i]}" && break ;; esac',
    '\tdone',
    '\tif [[ -z "$verb" ]]; then',
    `\t\tCOMPREPLY=($(compgen -W '${verbs.map((verb) => verb.name()).join(' ')} help --help --version' -- "$cur"))`,
    '\t\treturn',
    '\tfi',
    '\tcase "$verb" in',
    verbCases,
    `\thelp) COMPREPLY=($(compgen -W '${verbs.map((verb) => verb.name()).join(' ')}' -- "$cur")) ;;`,
    '\tesac',
    '}',
    'complete -F _dm_remap dm-remap',
    '',
  ].join('\n');
}

interface Metafile {
  inputs: Record<string, unknown>;
}

/** Every npm package with a file in the bundle: "name version (license)", and the set of licenses. */
async function bundledPackages(): Promise<{ packages: string[]; licenses: string[] }> {
  const meta = JSON.parse(await readFile(metafile as string, 'utf8')) as Metafile;
  const roots = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/@][^/]*)\//.exec(input);
    if (match?.[1]) roots.add(match[1]);
  }
  const packages: string[] = [];
  const licenses = new Set<string>();
  for (const root of [...roots].sort()) {
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
      license?: string;
    };
    const license = manifest.license ?? 'see the package';
    licenses.add(license);
    packages.push(`${manifest.name} ${manifest.version} (${license})`);
  }
  return { packages, licenses: [...licenses].sort() };
}

const { packages, licenses } = await bundledPackages();
await writeFile(join(outDir, 'dm-remap.8'), manPage8());
await writeFile(join(outDir, 'dm-remap.d.5'), await manPage5());
await writeFile(join(outDir, 'dm-remap.bash-completion'), bashCompletion());
await writeFile(join(outDir, 'bundled.txt'), [...new Set(packages)].join('\n') + '\n');
await writeFile(join(outDir, 'licenses.txt'), licenses.join('\n') + '\n');
