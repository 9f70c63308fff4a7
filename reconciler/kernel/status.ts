/**
 * The `remap` target's INFO status (kmod/README.md, "Status"): space-separated
 * key=value tokens. Unknown keys are kept in `extra`, and an unknown health
 * value is kept as printed, so a newer module never breaks an older
 * reconciler; a missing known key is an error, because a silently defaulted
 * counter would hide data loss.
 */
import { TARGET_NAME } from './adapter.js';
import type { ObservedDevice, RemapStatus, TableLine } from './adapter.js';
import { parseNonNegativeInteger, parseRemapTable, TableSyntaxError } from './table.js';

/** Status key in the kernel's output → field of RemapStatus. Order is the order the module prints. */
const COUNTER_KEYS = {
  remapped: 'remappedBlocks',
  pending: 'pendingBlocks',
  spare_used: 'spareBlocksUsed',
  spare_total: 'spareBlocksTotal',
  read_errors: 'readErrors',
  write_errors: 'writeErrors',
  remap_failures: 'remapFailures',
  metadata_seq: 'metadataSequence',
} as const satisfies Record<string, keyof RemapStatus>;

type CounterKey = keyof typeof COUNTER_KEYS;
type CounterField = (typeof COUNTER_KEYS)[CounterKey];

/** Parse the args part of a remap status line (after `<start> <len> remap`). */
export function parseRemapStatus(args: string): RemapStatus {
  const values = new Map<string, string>();
  for (const token of args.split(/\s+/).filter((word) => word !== '')) {
    const equals = token.indexOf('=');
    if (equals <= 0) throw new TableSyntaxError(`status token "${token}" is not key=value`);
    const key = token.slice(0, equals);
    if (values.has(key)) throw new TableSyntaxError(`status key ${key} repeated`);
    values.set(key, token.slice(equals + 1));
  }
  const health = values.get('health');
  if (health === undefined) throw new TableSyntaxError('status lacks health=');
  if (health === '') throw new TableSyntaxError('status has an empty health=');
  const counters = {} as Record<CounterField, number>;
  for (const [key, field] of Object.entries(COUNTER_KEYS) as [CounterKey, CounterField][]) {
    const word = values.get(key);
    if (word === undefined) throw new TableSyntaxError(`status lacks ${key}=`);
    counters[field] = parseNonNegativeInteger(word, key);
  }
  const extra: Record<string, string> = {};
  for (const [key, value] of values) {
    if (key !== 'health' && !(key in COUNTER_KEYS)) extra[key] = value;
  }
  return { health, ...counters, extra };
}

/** Format a status as the module prints it (used by the simulator and by tests). */
export function formatRemapStatus(status: RemapStatus): string {
  const counters = (Object.entries(COUNTER_KEYS) as [CounterKey, CounterField][]).map(
    ([key, field]) => `${key}=${status[field]}`,
  );
  const extra = Object.entries(status.extra).map(([key, value]) => `${key}=${value}`);
  return [`health=${status.health}`, ...counters, ...extra].join(' ');
}

/** The live table's only line when it is a single `remap` target: the devices this reconciler reads. */
export function singleRemapLine(live: readonly TableLine[]): TableLine | undefined {
  return live.length === 1 && live[0]?.targetType === TARGET_NAME ? live[0] : undefined;
}

/**
 * What one device's live table and status lines say of its remap target:
 * nothing when it is not a single `remap` target, else the parsed pair, or
 * why it could not be read. Never throws: one device the parser cannot read
 * must not hide the others (both adapters observe through this).
 */
export function readRemap(
  live: readonly TableLine[],
  status: readonly TableLine[],
): Pick<ObservedDevice, 'remap' | 'unreadable'> {
  const line = singleRemapLine(live);
  if (!line) return {};
  let table;
  try {
    table = parseRemapTable(line);
  } catch (error) {
    return { unreadable: `remap table: ${(error as Error).message}` };
  }
  const statusLine = singleRemapLine(status);
  if (!statusLine) {
    const printed = status.map((candidate) => candidate.targetType).join(', ') || 'nothing';
    // Also what a device reloaded or removed between the table and status reads shows; the next observation tells.
    return { unreadable: `status: expected one ${TARGET_NAME} line, got ${printed}` };
  }
  try {
    return { remap: { table, status: parseRemapStatus(statusLine.args) } };
  } catch (error) {
    return { unreadable: `status: ${(error as Error).message}` };
  }
}
