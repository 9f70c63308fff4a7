/**
 * The I/O half of the spec library: finds spec files, checks who may change
 * them, reads them within limits and resolves device paths. Everything it
 * reads is handed to the pure validators (validate-text.ts,
 * cross-spec-rules.ts).
 */
import fsSync from 'node:fs';
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { readBounded } from './bounded-read.js';
import { checkAcrossSpecs, normalizedPathIdentity } from './cross-spec-rules.js';
import type { DeviceIdentityOf } from './cross-spec-rules.js';
import { decodeSpecBytes } from './decode.js';
import type { ContentOutcome, SpecFileCache } from './file-cache.js';
import { compareDiagnostics, DiagnosticCode, isError } from './diagnostics.js';
import { classifyEntryName } from './file-names.js';
import { insecureAncestorProblem, insecurePermissionProblem } from './permissions.js';
import type { Diagnostic, FileResult, LoadOptions, LoadResult, Severity } from './types.js';
import { validateText } from './validate-text.js';
import type { CheckedDocument } from './validate-text.js';

export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

/** One file's outcome before the rules across files run. */
interface FileOutcome {
  file: string;
  documents: CheckedDocument[];
  declaredNames: string[];
  diagnostics: Diagnostic[];
}

/**
 * Loads every spec from `paths` (directories and/or files). Never throws for
 * bad input: each problem is a diagnostic, and a broken file only loses its
 * own devices.
 */
export async function loadSpecs(paths: string[], options: LoadOptions = {}): Promise<LoadResult> {
  const context: LoadContext = {
    maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    permissionSeverity: options.allowInsecurePermissions === true ? 'warning' : 'error',
    noSpecFiles: options.noSpecFiles,
    seen: new Set(),
    above: new Map(),
    cache: options.cache,
    // Before any stat: a file changed after this instant cannot keep the times it had then.
    statedAtNs: options.cache?.now() ?? 0n,
  };
  const diagnostics: Diagnostic[] = [];
  const ignored: FileResult[] = [];
  const outcomes: FileOutcome[] = [];

  for (const given of paths) {
    const stats = statOrReport(given, diagnostics);
    if (stats === undefined) continue;
    const above = await problemsAbove(given, context, diagnostics);
    if (stats.isDirectory()) {
      loadDirectory(given, stats, above, context, { outcomes, ignored, diagnostics });
    } else if (stats.isFile()) {
      const outcome = loadFile(given, stats, context, above.some(isError) ? 'above' : undefined);
      if (outcome) outcomes.push(outcome);
    } else {
      diagnostics.push(ioError(given, 'is neither a regular file nor a directory'));
    }
  }

  options.cache?.sweep();
  const documents = outcomes.flatMap((outcome) => outcome.documents);
  const identityOf = resolveDeviceIdentities(documents);
  const crossSpec = checkAcrossSpecs(documents, identityOf);
  const accepted = new Set(crossSpec.accepted);
  const allDiagnostics = [
    ...diagnostics,
    ...outcomes.flatMap((o) => o.diagnostics),
    ...crossSpec.diagnostics,
  ];
  const filesWithErrors = new Set(allDiagnostics.filter(isError).map((d) => d.file));

  const files: FileResult[] = [
    ...outcomes.map((outcome): FileResult => ({
      file: outcome.file,
      status: filesWithErrors.has(outcome.file) ? 'invalid' : 'valid',
      devices: outcome.declaredNames,
    })),
    ...ignored,
  ].sort((a, b) => byteOrder(a.file, b.file));
  const devices = outcomes
    .filter((outcome) => !filesWithErrors.has(outcome.file))
    .flatMap((outcome) => outcome.documents.filter((document) => accepted.has(document)))
    .map((document) => document.spec);

  return { devices, diagnostics: allDiagnostics.sort(compareDiagnostics), files };
}

interface LoadContext {
  maxFileBytes: number;
  permissionSeverity: 'error' | 'warning';
  noSpecFiles: Severity | undefined;
  /** Files already read (device:inode), so a file named twice (or via a symlink) is read once. */
  seen: Set<string>;
  /** Directories and links above the given paths already checked, with what was found (reported once). */
  above: Map<string, Diagnostic | undefined>;
  cache: SpecFileCache | undefined;
  statedAtNs: bigint;
}

interface Collected {
  outcomes: FileOutcome[];
  ignored: FileResult[];
  diagnostics: Diagnostic[];
}

function loadDirectory(
  dir: string,
  stats: BigIntStats,
  above: Diagnostic[],
  context: LoadContext,
  into: Collected,
): void {
  const dirProblems = permissionDiagnostics(dir, 'config directory', stats, context);
  into.diagnostics.push(...dirProblems);
  let names: string[];
  try {
    names = fsSync.readdirSync(dir);
  } catch (cause) {
    into.diagnostics.push(ioError(dir, `cannot be listed: ${errorText(cause)}`));
    return;
  }
  // Byte order, like systemd, so the order never depends on the locale.
  names.sort(byteOrder);
  // An insecure directory taints every file in it: anyone who can write it can swap a file.
  const refusedBy: RefusedBy | undefined = dirProblems.some(isError)
    ? 'directory'
    : above.some(isError)
      ? 'above'
      : undefined;

  let specFiles = 0;
  let ignored = 0;
  const ignore = (file: string, reason: string): void => {
    ignored += 1;
    into.ignored.push({ file, status: 'ignored', devices: [], reason });
  };
  for (const name of names) {
    const file = path.join(dir, name);
    const verdict = classifyEntryName(name);
    if (!verdict.read) {
      ignore(file, verdict.reason);
      continue;
    }
    specFiles += 1;
    const stats = statOrReport(file, into.diagnostics);
    if (stats === undefined) continue;
    if (!stats.isFile()) {
      specFiles -= 1;
      ignore(file, 'not a regular file');
      continue;
    }
    const outcome = loadFile(file, stats, context, refusedBy);
    if (outcome) into.outcomes.push(outcome);
  }
  if (specFiles === 0 && context.noSpecFiles !== undefined) {
    const why =
      ignored === 0
        ? 'the directory is empty'
        : `only *.yaml and *.yml are read; ${ignored} ${ignored === 1 ? 'file' : 'files'} ignored`;
    into.diagnostics.push({
      severity: context.noSpecFiles,
      code: DiagnosticCode.noSpecFiles,
      message: `no spec files in ${dir} (${why})`,
      file: dir,
    });
  }
}

/** Why a file is refused whatever it holds: its directory, or a directory or link above, is unsafe. */
type RefusedBy = 'directory' | 'above';

function loadFile(
  file: string,
  stats: BigIntStats,
  context: LoadContext,
  refusedBy: RefusedBy | undefined,
): FileOutcome | undefined {
  const identity = `${stats.dev}:${stats.ino}`;
  if (context.seen.has(identity)) return undefined;
  context.seen.add(identity);

  const outcome: FileOutcome = { file, documents: [], declaredNames: [], diagnostics: [] };
  outcome.diagnostics.push(...permissionDiagnostics(file, 'config file', stats, context));
  if (refusedBy !== undefined) {
    outcome.diagnostics.push({
      severity: 'error',
      code: DiagnosticCode.insecurePermissions,
      message:
        refusedBy === 'directory'
          ? 'not used because its directory is refused (see the directory error)'
          : 'not used because a directory or symbolic link on its path is refused (see its error)',
      file,
    });
  }

  const content = context.cache?.lookup(file, stats) ?? readContent(file, stats, context);
  outcome.documents = content.documents;
  outcome.declaredNames = content.declaredNames;
  outcome.diagnostics = outcome.diagnostics.concat(content.diagnostics);
  return outcome;
}

/** Reads and validates a file, and tells the cache what was found unless it was an I/O failure (retried). */
function readContent(file: string, stats: BigIntStats, context: LoadContext): ContentOutcome {
  const content = readAndValidate(file, stats, context.maxFileBytes);
  if (!content.diagnostics.some((d) => d.code === DiagnosticCode.ioError)) {
    context.cache?.remember(file, stats, context.statedAtNs, content);
  }
  return content;
}

function readAndValidate(file: string, stats: BigIntStats, maxFileBytes: number): ContentOutcome {
  const read = readBounded(file, stats, maxFileBytes);
  if ('problem' in read) {
    return { documents: [], declaredNames: [], diagnostics: [{ severity: 'error', ...read.problem, file }] };
  }
  const decoded = decodeSpecBytes(file, read.bytes);
  if (decoded.diagnostic) return { documents: [], declaredNames: [], diagnostics: [decoded.diagnostic] };
  const { documents, declaredNames, diagnostics } = validateText(file, decoded.text);
  return { documents, declaredNames, diagnostics };
}

function permissionDiagnostics(
  file: string,
  what: 'config directory' | 'config file',
  stats: BigIntStats,
  context: LoadContext,
): Diagnostic[] {
  const problem = insecurePermissionProblem({ uid: Number(stats.uid), mode: Number(stats.mode) });
  if (problem === undefined) return [];
  const refused = context.permissionSeverity === 'error';
  return [
    {
      severity: context.permissionSeverity,
      code: DiagnosticCode.insecurePermissions,
      message:
        `${what} ${problem}; only root may be able to change device specs ` +
        `(fix: chown root:root ${file} && chmod go-w ${file})` +
        (refused ? '' : '; accepted because insecure permissions are allowed here'),
      file,
    },
  ];
}

/**
 * The directories and symbolic links above `given` that a non-root user
 * could use to swap it (or a file below it) for something else, as
 * diagnostics: each is reported once per load, and those that are errors
 * are returned so that everything below them is refused. Checked: every
 * directory up to '/' from the real location of `given`, and from the real
 * location of each directory it is written through (a symlink on the way
 * lives in one of those); and each symlink on the way, which must be
 * root's (its owner could remove it from a sticky directory).
 */
async function problemsAbove(
  given: string,
  context: LoadContext,
  diagnostics: Diagnostic[],
): Promise<Diagnostic[]> {
  const found: Diagnostic[] = [];
  const check = async (entry: string, problemOf: () => Promise<Diagnostic | undefined>) => {
    if (!context.above.has(entry)) {
      const diagnostic = await problemOf();
      context.above.set(entry, diagnostic);
      if (diagnostic) diagnostics.push(diagnostic);
    }
    const diagnostic = context.above.get(entry);
    if (diagnostic) found.push(diagnostic);
  };
  const { directories, links } = await pathAbove(given);
  for (const dir of directories) {
    await check(dir, async () => {
      const stats = await fs.stat(dir).catch(() => undefined);
      const problem = stats && insecureAncestorProblem({ uid: stats.uid, mode: stats.mode });
      if (problem === undefined) return undefined;
      return aboveDiagnostic(
        dir,
        `directory on the path to ${given} ${problem}; whoever can write it can replace what lies below it, ` +
          `so only root may be able to (fix: chown root:root ${dir} && chmod go-w ${dir})`,
        context,
      );
    });
  }
  for (const link of links) {
    await check(`link:${link}`, async () => {
      const stats = await fs.lstat(link).catch(() => undefined);
      if (stats === undefined || stats.uid === 0) return undefined;
      return aboveDiagnostic(
        link,
        `symbolic link on the path to ${given} is owned by uid ${stats.uid}, not root; its owner can point it ` +
          `elsewhere (fix: chown -h root:root ${link})`,
        context,
      );
    });
  }
  return found;
}

function aboveDiagnostic(file: string, message: string, context: LoadContext): Diagnostic {
  const refused = context.permissionSeverity === 'error';
  return {
    severity: context.permissionSeverity,
    code: DiagnosticCode.insecurePermissions,
    message: message + (refused ? '' : '; accepted because insecure permissions are allowed here'),
    file,
  };
}

/** What `pathAbove` finds: directories root first, and the symlinks `given` is written through (itself included). */
interface PathAbove {
  directories: string[];
  links: string[];
}

async function pathAbove(given: string): Promise<PathAbove> {
  const directories = new Set<string>();
  const addUpToRoot = (dir: string): void => {
    for (let current = dir; !directories.has(current); current = path.dirname(current)) {
      directories.add(current);
      if (current === path.dirname(current)) break;
    }
  };
  const links: string[] = [];
  const absolute = path.resolve(given);
  const real = await fs.realpath(absolute).catch(() => undefined);
  if (real !== undefined) addUpToRoot(path.dirname(real));
  for (let prefix = absolute; prefix !== path.dirname(prefix); prefix = path.dirname(prefix)) {
    const stats = await fs.lstat(prefix).catch(() => undefined);
    if (stats?.isSymbolicLink()) links.push(prefix);
    const parent = await fs.realpath(path.dirname(prefix)).catch(() => undefined);
    if (parent !== undefined) addUpToRoot(parent);
  }
  const depth = (dir: string) => (dir === '/' ? 0 : dir.split('/').length);
  return { directories: [...directories].sort((a, b) => depth(a) - depth(b) || byteOrder(a, b)), links };
}

/** stat() without an exception for a missing path: at thousands of files, building the error costs more than the call. */
function statOrReport(file: string, diagnostics: Diagnostic[]): BigIntStats | undefined {
  let stats: BigIntStats | undefined;
  try {
    // bigint: the cache compares times in nanoseconds.
    stats = fsSync.statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch (cause) {
    diagnostics.push(ioError(file, `cannot be examined: ${errorText(cause)}`));
    return undefined;
  }
  if (stats === undefined) {
    const dangling = fsSync.lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink() === true;
    diagnostics.push({
      severity: 'error',
      code: DiagnosticCode.pathNotFound,
      message: dangling ? 'is a symbolic link to nothing' : 'no such file or directory',
      file,
    });
  }
  return stats;
}

/**
 * What each device path points at: the block device number when it is one,
 * else its real path, so two spellings of one disk compare equal. Paths that
 * do not exist (yet) fall back to their normalized spelling.
 */
function resolveDeviceIdentities(documents: readonly CheckedDocument[]): DeviceIdentityOf {
  const identities = new Map<string, string>();
  for (const { spec } of documents) {
    for (const devicePath of [spec.mainDevice, spec.spareDevice]) {
      if (!identities.has(devicePath)) identities.set(devicePath, deviceIdentity(devicePath));
    }
  }
  return (devicePath) => identities.get(devicePath) ?? pathIdentity(devicePath);
}

function deviceIdentity(devicePath: string): string {
  try {
    // Most paths of a config under test, or of disks not attached yet, do not exist: no exception for those.
    const stats = fsSync.statSync(devicePath, { throwIfNoEntry: false });
    if (stats === undefined) return pathIdentity(devicePath);
    if (stats.isBlockDevice()) return `block:${stats.rdev}`;
    return `path:${fsSync.realpathSync(devicePath)}`;
  } catch {
    return pathIdentity(devicePath);
  }
}

function pathIdentity(devicePath: string): string {
  return `path:${normalizedPathIdentity(devicePath)}`;
}

function ioError(file: string, message: string): Diagnostic {
  return { severity: 'error', code: DiagnosticCode.ioError, message, file };
}

function errorText(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
