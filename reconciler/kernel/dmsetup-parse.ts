/**
 * Parsers for the dmsetup outputs one observation pass reads, and the
 * `create --concise` formatter. Pure, and tested against captured output.
 *
 * Device names may contain almost anything (spaces, ': ', commas), so every
 * format is read in a way that does not guess where a name ends:
 *  - `info -c` puts the name in the last column, so extra separators in it
 *    stay in the name;
 *  - `table --concise` escapes ',', ';' and '\' with a backslash;
 *  - `status` lines are "NAME: ..." and are matched against the names `info`
 *    listed, longest first.
 *
 * A target line that cannot be parsed marks only its own device `unreadable`;
 * output that cannot be parsed at all (a listing without its columns) throws.
 */
import type { TableLine } from './adapter.js';
import { parseTableLine } from './table.js';

/** Columns asked of `dmsetup info -c`, name last (see above). */
export const INFO_COLUMNS = 'uuid,major,minor,attr,open,name';
/** ASCII unit separator: device-mapper names and our UUIDs never contain control characters. */
export const INFO_SEPARATOR = '\u001f';

/** The `dmsetup` arguments of the listing parseInfoColumns reads. */
export const INFO_ARGS: readonly string[] = [
  'info',
  '-c',
  '--noheadings',
  '--separator',
  INFO_SEPARATOR,
  '-o',
  INFO_COLUMNS,
];

/** dmsetup prints this instead of nothing when there are no devices. */
const NO_DEVICES = 'No devices found';

export interface InfoRow {
  name: string;
  uuid: string;
  major: number;
  minor: number;
  hasLiveTable: boolean;
  hasInactiveTable: boolean;
  suspended: boolean;
  readOnly: boolean;
  openCount: number;
}

export class DmsetupOutputError extends Error {
  override name = 'DmsetupOutputError';
}

/** Parse `dmsetup info -c --noheadings --separator INFO_SEPARATOR -o INFO_COLUMNS`. */
export function parseInfoColumns(stdout: string): InfoRow[] {
  return outputLines(stdout).map((line) => {
    const fields = line.split(INFO_SEPARATOR);
    if (fields.length < 6) throw new DmsetupOutputError(`info line has ${fields.length} columns: ${line}`);
    const [uuid, major, minor, attr, open] = fields as [string, string, string, string, string];
    return {
      name: fields.slice(5).join(INFO_SEPARATOR),
      uuid,
      major: integer(major, 'major', line),
      minor: integer(minor, 'minor', line),
      ...parseAttr(attr, line),
      openCount: integer(open, 'open', line),
    };
  });
}

/** The `attr` column: (L)ive, (I)nactive, (s)uspended, (r)ead-only / read-(w)rite, '-' for unset. */
export function parseAttr(
  attr: string,
  line = attr,
): Pick<InfoRow, 'hasLiveTable' | 'hasInactiveTable' | 'suspended' | 'readOnly'> {
  if (!/^[L-][I-][s-][rw]$/.test(attr)) throw new DmsetupOutputError(`unexpected attr "${attr}" in: ${line}`);
  return {
    hasLiveTable: attr[0] === 'L',
    hasInactiveTable: attr[1] === 'I',
    suspended: attr[2] === 's',
    readOnly: attr[3] === 'r',
  };
}

export interface ConciseDevice {
  name: string;
  uuid: string;
  minor: number | undefined;
  flags: string;
  /** Live table lines, as dmsetup prints them; empty when unreadable. */
  table: TableLine[];
  /** Why one of its table lines could not be parsed. */
  unreadable?: string;
}

/** Parse `dmsetup table --concise` (one line for all devices). */
export function parseConciseTables(stdout: string): ConciseDevice[] {
  const text = outputLines(stdout).join('\n');
  if (text === '') return [];
  return splitEscaped(text, ';')
    .filter((spec) => spec !== '')
    .map((spec) => {
      const fields = splitEscaped(spec, ',').map(unescapeConcise);
      const [name, uuid = '', minor = '', flags = '', ...tableLines] = fields;
      if (name === undefined || name === '')
        throw new DmsetupOutputError(`concise device without a name: ${spec}`);
      const device = { name, uuid, minor: minor === '' ? undefined : integer(minor, 'minor', spec), flags };
      const table = parseLines(tableLines);
      return table.unreadable === undefined
        ? { ...device, table: table.lines }
        : { ...device, table: [], unreadable: table.unreadable };
    });
}

export interface ConciseSpec {
  name: string;
  uuid: string;
  /** Table lines, one per target. */
  table: string[];
}

/** Format the argument of `dmsetup create --concise`: name,uuid,minor,flags,table[,table];... */
export function formatConcise(devices: readonly ConciseSpec[]): string {
  return devices
    .map((device) => [device.name, device.uuid, '', '', ...device.table].map(escapeConcise).join(','))
    .join(';');
}

/** One device's target lines, or why one of them could not be parsed. */
export interface DeviceLines {
  lines: TableLine[];
  unreadable?: string;
}

/**
 * Parse `dmsetup status` (or `dmsetup table`) over all devices: "NAME: <start> <len> <type> <args>",
 * one line per target, "NAME: " alone for a device without a live table. Lines are attributed to
 * the longest known name that prefixes them; lines of devices not in `names` (created after the
 * listing) are skipped.
 */
export function parseNamedLines(stdout: string, names: Iterable<string>): Map<string, DeviceLines> {
  const byLength = [...new Set(names)].sort((a, b) => b.length - a.length);
  const texts = new Map<string, string[]>();
  for (const line of outputLines(stdout)) {
    const name = byLength.find((candidate) => line.startsWith(`${candidate}:`));
    if (name === undefined) continue;
    texts.set(name, [...(texts.get(name) ?? []), line.slice(name.length + 1)]);
  }
  return new Map([...texts].map(([name, lines]) => [name, parseLines(lines)]));
}

/** Parse `dmsetup targets`: "name    v1.2.3" per line. */
export function parseTargets(stdout: string): string[] {
  return outputLines(stdout)
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}

/** Parse target lines (blank ones skipped), stopping at the first that is not one. */
function parseLines(texts: readonly string[]): DeviceLines {
  const lines: TableLine[] = [];
  for (const text of texts.filter((candidate) => candidate.trim() !== '')) {
    try {
      lines.push(parseTableLine(text.trim()));
    } catch (error) {
      return { lines: [], unreadable: (error as Error).message };
    }
  }
  return { lines };
}

function outputLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.trim() !== '' && line.trim() !== NO_DEVICES);
}

function integer(word: string, what: string, line: string): number {
  const trimmed = word.trim();
  if (!/^\d+$/.test(trimmed)) throw new DmsetupOutputError(`${what} "${word}" is not a number in: ${line}`);
  return Number(trimmed);
}

/** Split on `separator` where it is not escaped by a backslash; escapes are kept for unescapeConcise. */
function splitEscaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (char === '\\' && index + 1 < text.length) {
      current += char + text[index + 1]!;
      index++;
    } else if (char === separator) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function unescapeConcise(field: string): string {
  return field.replace(/\\(.)/g, '$1');
}

function escapeConcise(field: string): string {
  return field.replace(/[\\,;]/g, (char) => `\\${char}`);
}
