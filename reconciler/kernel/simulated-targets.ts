/**
 * What the simulated kernel does when a table is loaded: the same checks the
 * real constructors make (known target type, contiguous lines from sector 0,
 * backing devices present and large enough) and the same canonical form
 * `dmsetup table` prints afterwards (devices as major:minor, features as given).
 */
import { KernelError, TARGET_NAME } from './adapter.js';
import type { RemapTable, TableLine } from './adapter.js';
import { parseRemapTable, parseTable, TableSyntaxError } from './table.js';

export interface SimulatedBlockDevice {
  major: number;
  minor: number;
  sizeSectors: number;
}

/** Looks a device argument ("/dev/x" or "M:m") up; undefined when no such device exists. */
export type DeviceResolver = (reference: string) => SimulatedBlockDevice | undefined;

/**
 * The remap module's checks of a spare against the table (kmod: "Spare
 * belongs to a main device of another size", "Spare device is in use by
 * another device"...): throws a KernelError to refuse it.
 */
export type SpareCheck = (spareMajorMinor: string, table: RemapTable) => void;

/** Targets every kernel with device-mapper has built in. */
const BUILT_IN_TARGETS = new Set(['linear', 'error', 'zero']);

export function availableTargets(moduleLoaded: boolean): string[] {
  return [...BUILT_IN_TARGETS, ...(moduleLoaded ? [TARGET_NAME] : [])].sort();
}

/** Validate a table for `name` and return it in canonical form. Throws KernelError (EINVAL / ENXIO). */
export function constructTable(
  name: string,
  table: string,
  resolve: DeviceResolver,
  moduleLoaded: boolean,
  checkSpare: SpareCheck = () => {},
): TableLine[] {
  const fail = (message: string, code = 'EINVAL') =>
    new KernelError(`load ${name}: ${message}`, 'load', name, code);
  let lines: TableLine[];
  try {
    lines = parseTable(table);
  } catch (error) {
    throw fail(error instanceof Error ? error.message : String(error));
  }
  if (lines.length === 0) throw fail('empty table');
  let nextStart = 0;
  return lines.map((line) => {
    if (line.startSector !== nextStart) throw fail(`gap or overlap in table at sector ${line.startSector}`);
    if (line.lengthSectors === 0) throw fail('zero-length target');
    nextStart = line.startSector + line.lengthSectors;
    if (!availableTargets(moduleLoaded).includes(line.targetType)) {
      throw fail(`unknown target type ${line.targetType}`);
    }
    const canonical = constructLine(line, resolve, fail, checkSpare);
    return canonical;
  });
}

type Fail = (message: string, code?: string) => KernelError;

function constructLine(
  line: TableLine,
  resolve: DeviceResolver,
  fail: Fail,
  checkSpare: SpareCheck,
): TableLine {
  const lookUp = (reference: string, neededSectors: number): string => {
    const device = resolve(reference);
    if (!device) throw fail(`device lookup failed for ${reference}`, 'ENXIO');
    if (device.sizeSectors < neededSectors) throw fail(`device ${reference} too small for target`);
    return `${device.major}:${device.minor}`;
  };
  switch (line.targetType) {
    case 'error':
    case 'zero':
      return { ...line, args: '' };
    case 'linear': {
      const [device, offsetWord, ...rest] = line.args.split(' ');
      if (device === undefined || device === '' || offsetWord === undefined || rest.length > 0) {
        throw fail('linear: invalid argument count');
      }
      if (!/^\d+$/.test(offsetWord)) throw fail('linear: invalid device sector');
      const offset = Number(offsetWord);
      return { ...line, args: `${lookUp(device, offset + line.lengthSectors)} ${offset}` };
    }
    case TARGET_NAME: {
      let remap;
      try {
        remap = parseRemapTable(line);
      } catch (error) {
        throw fail(`remap: ${error instanceof TableSyntaxError ? error.message : String(error)}`);
      }
      if (line.lengthSectors % remap.blockSizeSectors !== 0) {
        throw fail('remap: target length is not a multiple of block_size');
      }
      const main = lookUp(remap.mainDevice, line.lengthSectors);
      const spare = lookUp(remap.spareDevice, remap.blockSizeSectors);
      if (main === spare) throw fail('remap: main and spare are the same device');
      checkSpare(spare, remap);
      const [, , ...features] = line.args.split(' ');
      return { ...line, args: [main, spare, ...features].join(' ') };
    }
    default:
      throw fail(`unknown target type ${line.targetType}`);
  }
}
