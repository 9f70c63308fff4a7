/**
 * Whether a remap device made by hand can be taken over, and the spec that
 * says exactly what it is. Anything that could be read two ways is refused:
 * a device with a UUID (device-mapper sets one only on a device that has
 * none, and a foreign one is another tool's), a table that is not one
 * `remap` segment over the whole main device (converging would change it),
 * disks no stable link points at, a name the spec rules refuse, a name or
 * disk another spec already declares. The table's features become spec
 * fields the way device/table.ts turns them back into a table.
 */
import { OWNED_UUID_PREFIX, TARGET_NAME } from '../kernel/adapter.js';
import type { KernelAdapter, KernelObservation, RemapTable } from '../kernel/adapter.js';
import { formatTableLine } from '../kernel/table.js';
import { deviceNameProblem } from '../spec/device-names.js';
import { API_VERSION, KIND, validateText } from '../spec/index.js';
import type { DeviceSpec } from '../spec/index.js';
import { stableLinkTo } from './stableDevicePath.js';

const SECTOR_BYTES = 512;
/** What the schema admits for blockSize (bytes) and readRetries. */
const BLOCK_SIZES = new Set([512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]);
const MAX_READ_RETRIES = 16;

/** Other tools' dm UUID prefixes, for a refusal that says whose device it is. */
const UUID_OWNERS: readonly (readonly [RegExp, string])[] = [
  [/^LVM-/, 'LVM'],
  [/^CRYPT-/, "dm-crypt's"],
  [/^mpath-/, "multipath's"],
  [/^part\d+-/, "kpartx's"],
  [/^stratis-/, "Stratis's"],
  [/^VDO-/, "VDO's"],
  [/^DMRAID-/, "dmraid's"],
];

/** Why a device is not adopted, in words that complete "NAME: refused: …". */
export class AdoptionRefused extends Error {
  override name = 'AdoptionRefused';
}

export interface Adoption {
  name: string;
  uuid: string;
  /** The spec file's text. */
  text: string;
}

export interface AdoptionContext {
  kernel: KernelAdapter;
  observation: KernelObservation;
  /** The specs in the config dir now. */
  declared: readonly DeviceSpec[];
  /** Where stable links are looked for (/dev/disk/by-id). */
  byIdDir: string;
}

export async function planAdoption(name: string, context: AdoptionContext): Promise<Adoption> {
  const nameProblem = deviceNameProblem(name);
  if (nameProblem !== undefined) throw new AdoptionRefused(`the name ${nameProblem}`);
  const table = liveRemapTable(name, context.observation);
  const declaring = context.declared.find((spec) => spec.name === name);
  if (declaring) throw new AdoptionRefused(`${declaring.source.file} declares it already`);

  const blockSize = table.blockSizeSectors * SECTOR_BYTES;
  if (!BLOCK_SIZES.has(blockSize) || table.readRetries > MAX_READ_RETRIES) {
    throw new AdoptionRefused(
      `its block_size ${table.blockSizeSectors} or read_retries ${table.readRetries} is outside what a spec can say`,
    );
  }
  const main = await stableLink(context, table.mainDevice, 'main');
  const spare = await stableLink(context, table.spareDevice, 'spare');
  const mainSectors = (await context.kernel.inspectBlockDevice(main))?.sizeSectors ?? 0;
  if (
    table.startSector !== 0 ||
    table.lengthSectors !== mainSectors - (mainSectors % table.blockSizeSectors)
  ) {
    throw new AdoptionRefused(
      `its table maps ${table.lengthSectors} sectors but its main device has ${mainSectors}: ` +
        'converging the spec would load another table',
    );
  }
  await refuseSharedDisks(name, context, {
    main: [main, table.mainDevice],
    spare: [spare, table.spareDevice],
  });

  const text = specText(name, { main, spare, blockSize, readRetries: table.readRetries }, table);
  const check = validateText(`${name}.yaml`, text);
  const problem = check.diagnostics.find((diagnostic) => diagnostic.severity === 'error');
  if (problem) throw new AdoptionRefused(`the spec it would write is invalid: ${problem.message}`);
  return { name, uuid: `${OWNED_UUID_PREFIX}${name}`, text };
}

/** The device's one remap segment, or why it cannot be taken over. */
function liveRemapTable(name: string, observation: KernelObservation): RemapTable {
  const device = observation.devices.find((candidate) => candidate.name === name);
  if (!device) throw new AdoptionRefused('no such device');
  if (device.owned) throw new AdoptionRefused(`dm-remap manages it already (UUID ${device.uuid})`);
  if (device.uuid !== '') {
    const owner = UUID_OWNERS.find(([prefix]) => prefix.test(device.uuid))?.[1] ?? "another tool's";
    throw new AdoptionRefused(
      `it has the UUID "${device.uuid}" (${owner}); device-mapper sets a UUID only on a device that has ` +
        `none, so it cannot be given ${OWNED_UUID_PREFIX}${name}`,
    );
  }
  if (!device.hasLiveTable) throw new AdoptionRefused('it has no live table');
  if (device.table.length !== 1 || device.table[0]?.targetType !== TARGET_NAME) {
    const targets = device.table.map((line) => line.targetType).join(', ');
    throw new AdoptionRefused(`its table is not a single ${TARGET_NAME} target (${targets})`);
  }
  if (!device.remap)
    throw new AdoptionRefused(`its table or status cannot be read: ${device.unreadable ?? ''}`);
  return device.remap.table;
}

async function stableLink(context: AdoptionContext, majorMinor: string, role: string): Promise<string> {
  const link = await stableLinkTo(context.kernel, majorMinor, context.byIdDir);
  if (link === undefined) {
    throw new AdoptionRefused(
      `no link in ${context.byIdDir} points at its ${role} device (${majorMinor}), so no spec can name it by a stable path`,
    );
  }
  return link;
}

/** Refuses when another spec, or another device dm-remap owns, uses the main or the spare. */
async function refuseSharedDisks(
  name: string,
  context: AdoptionContext,
  disks: Record<'main' | 'spare', readonly [string, string]>,
): Promise<void> {
  const users: { owner: string; role: string; majorMinor: string | undefined }[] = [];
  for (const spec of context.declared) {
    for (const [role, disk] of [
      ['main', spec.mainDevice],
      ['spare', spec.spareDevice],
    ] as const) {
      const majorMinor = (await context.kernel.inspectBlockDevice(disk))?.majorMinor;
      users.push({ owner: `${spec.name} (${spec.source.file})`, role, majorMinor });
    }
  }
  for (const device of context.observation.devices) {
    if (!device.owned || !device.remap || device.name === name) continue;
    users.push({ owner: device.name, role: 'main', majorMinor: device.remap.table.mainDevice });
    users.push({ owner: device.name, role: 'spare', majorMinor: device.remap.table.spareDevice });
  }
  for (const [role, [link, majorMinor]] of Object.entries(disks)) {
    const user = users.find((candidate) => candidate.majorMinor === majorMinor);
    if (user) {
      throw new AdoptionRefused(`its ${role} device ${link} is the ${user.role} device of ${user.owner}`);
    }
  }
}

interface AdoptedFields {
  main: string;
  spare: string;
  blockSize: number;
  readRetries: number;
}

function specText(name: string, fields: AdoptedFields, table: RemapTable): string {
  const live = formatTableLine({
    startSector: table.startSector,
    lengthSectors: table.lengthSectors,
    targetType: TARGET_NAME,
    args: `${table.mainDevice} ${table.spareDevice}`,
  });
  return [
    `# Adopted by \`dm-remap adopt\` from the running device ${name}, whose table was:`,
    `#   ${live} (block_size ${table.blockSizeSectors}, read_retries ${table.readRetries})`,
    `apiVersion: ${API_VERSION}`,
    `kind: ${KIND}`,
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  mainDevice: ${yamlString(fields.main)}`,
    `  spareDevice: ${yamlString(fields.spare)}`,
    `  blockSize: ${fields.blockSize}`,
    `  readRetries: ${fields.readRetries}`,
    '',
  ].join('\n');
}

/** A path as a plain scalar when it is one, else double-quoted (JSON's escapes are YAML's). */
function yamlString(value: string): string {
  return /^\/[A-Za-z0-9/._+:@=-]*$/.test(value) && !/: |:$/.test(value) ? value : JSON.stringify(value);
}
