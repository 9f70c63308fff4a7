/**
 * Table lines as device-mapper prints them, and the `remap` target's own
 * argument grammar (kmod/README.md, "Table"):
 *
 *   <start> <len> remap <main_dev> <spare_dev> [<#feature_args> <feature_args>...]
 *
 * with the features `block_size <sectors>` (default 8, a power of two),
 * `read_retries <n>` (default 3) and `main_id <string>` (1 to 63 characters),
 * feature names matched case-insensitively as the module does. Pure: no I/O, so the simulator and the real adapter share it.
 */
import { TARGET_NAME } from './adapter.js';
import type { RemapTable, TableLine } from './adapter.js';

export const DEFAULT_BLOCK_SIZE_SECTORS = 8;
export const DEFAULT_READ_RETRIES = 3;

/** Thrown for a line that is not a well-formed table line; callers map it to EINVAL. */
export class TableSyntaxError extends Error {
  override name = 'TableSyntaxError';
}

/** Split one `<start> <len> <type> <args...>` line. Args are kept verbatim (single spaces between words). */
export function parseTableLine(line: string): TableLine {
  const words = line.trim().split(/\s+/);
  if (words.length < 3 || words[0] === '') {
    throw new TableSyntaxError(`table line "${line}" needs <start> <length> <target>`);
  }
  const [start, length, targetType, ...args] = words as [string, string, string, ...string[]];
  return {
    startSector: parseNonNegativeInteger(start, 'start'),
    lengthSectors: parseNonNegativeInteger(length, 'length'),
    targetType,
    args: args.join(' '),
  };
}

/** Split a multi-line table (as given to `dmsetup load`) into its target lines, skipping blank lines. */
export function parseTable(table: string): TableLine[] {
  return table
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(parseTableLine);
}

export function formatTableLine(line: TableLine): string {
  const head = `${line.startSector} ${line.lengthSectors} ${line.targetType}`;
  return line.args === '' ? head : `${head} ${line.args}`;
}

/** Parse the args of a `remap` line. Throws TableSyntaxError naming the first problem. */
export function parseRemapTable(line: TableLine): RemapTable {
  if (line.targetType !== TARGET_NAME) {
    throw new TableSyntaxError(`target is "${line.targetType}", not "${TARGET_NAME}"`);
  }
  const words = line.args === '' ? [] : line.args.split(' ');
  const [mainDevice, spareDevice, featureCountWord, ...rest] = words;
  if (mainDevice === undefined || spareDevice === undefined) {
    throw new TableSyntaxError('remap needs <main_dev> <spare_dev>');
  }
  const features = parseFeatures(featureCountWord, rest);
  return {
    startSector: line.startSector,
    lengthSectors: line.lengthSectors,
    mainDevice,
    spareDevice,
    blockSizeSectors: features.blockSizeSectors ?? DEFAULT_BLOCK_SIZE_SECTORS,
    readRetries: features.readRetries ?? DEFAULT_READ_RETRIES,
    ...(features.mainId === undefined ? {} : { mainId: features.mainId }),
  };
}

/**
 * Format a remap table line. Features equal to their defaults are still
 * written, so what is loaded says exactly what the reconciler meant even if a
 * future module changes a default.
 */
export function formatRemapTable(table: RemapTable): string {
  const words = ['block_size', String(table.blockSizeSectors), 'read_retries', String(table.readRetries)];
  if (table.mainId !== undefined) words.push('main_id', table.mainId);
  const features = `${words.length} ${words.join(' ')}`;
  return `${table.startSector} ${table.lengthSectors} ${TARGET_NAME} ${table.mainDevice} ${table.spareDevice} ${features}`;
}

interface Features {
  blockSizeSectors?: number;
  readRetries?: number;
  mainId?: string;
}

/** The module's limit on main_id (REMAP_MAIN_ID_MAX). */
const MAX_MAIN_ID_LENGTH = 63;

function parseFeatures(countWord: string | undefined, words: string[]): Features {
  if (countWord === undefined) return {};
  const count = parseNonNegativeInteger(countWord, '#feature_args');
  if (count !== words.length) {
    throw new TableSyntaxError(`#feature_args is ${count} but ${words.length} feature words follow`);
  }
  const features: Features = {};
  for (let index = 0; index < words.length; index += 2) {
    const key = words[index]!.toLowerCase();
    const value = words[index + 1];
    if (value === undefined) throw new TableSyntaxError(`feature ${key} needs a value`);
    if (key === 'block_size') {
      if (features.blockSizeSectors !== undefined)
        throw new TableSyntaxError('feature block_size duplicated');
      const blockSize = parseNonNegativeInteger(value, 'block_size');
      if (blockSize === 0 || (blockSize & (blockSize - 1)) !== 0) {
        throw new TableSyntaxError('block_size must be a power of two');
      }
      features.blockSizeSectors = blockSize;
    } else if (key === 'read_retries') {
      if (features.readRetries !== undefined) throw new TableSyntaxError('feature read_retries duplicated');
      features.readRetries = parseNonNegativeInteger(value, 'read_retries');
    } else if (key === 'main_id') {
      if (features.mainId !== undefined) throw new TableSyntaxError('feature main_id duplicated');
      if (value.length > MAX_MAIN_ID_LENGTH) throw new TableSyntaxError('main_id must be 1 to 63 characters');
      features.mainId = value;
    } else {
      throw new TableSyntaxError(`unknown feature ${key}`);
    }
  }
  return features;
}

export function parseNonNegativeInteger(word: string, what: string): number {
  if (!/^\d+$/.test(word)) throw new TableSyntaxError(`${what} "${word}" is not a non-negative integer`);
  const value = Number(word);
  if (!Number.isSafeInteger(value)) throw new TableSyntaxError(`${what} ${word} is too large`);
  return value;
}
