/**
 * The remap target's messages as the simulated kernel answers them, word for
 * word what remap_message() in kmod/dm-remap-target.c does: the same range
 * rules (parse_range: a first block beyond the device or a count of 0 is
 * EINVAL, ranges are cut at the device's end), the same replies (one
 * "<block> <slot>" or "<block>" line per entry, ascending, as DmsetupKernel
 * returns them: without the final newline), and the same refusals of a
 * proactive remap (EBUSY unless resumed, ENOSPC once the spare is full, after
 * moving the blocks that fit).
 */
import { KernelError } from './adapter.js';
import type { RemapStatus } from './adapter.js';
import type { RemapRuns } from './simulated-remaps.js';

/** What a message can see and change of one live remap target. */
export interface SimulatedTarget {
  name: string;
  /** Main blocks: the table's length over its block size. */
  blocks: number;
  /** Block size in sectors (a proactive remap moves at most 4 MiB a step). */
  blockSectors: number;
  /** Resumed (the module's `live`): only then does a proactive remap run. */
  resumed: boolean;
  /** The remaps on the spare. */
  remaps: RemapRuns;
  /** Blocks whose read failed and that no write replaced since, ascending. */
  pending: readonly number[];
  status: RemapStatus;
}

/** The module's REMAP_BATCH_MAX and REMAP_BULK_BYTES: one proactive step moves at most this much. */
const STEP_MAX_BLOCKS = 1024;
const STEP_MAX_BYTES = 4 << 20;

const U64_MAX = (1n << 64n) - 1n;

export function answerMessage(target: SimulatedTarget, args: readonly string[]): string {
  const refuse = (code = 'EINVAL', why = 'target does not accept') =>
    new KernelError(`message ${target.name}: ${why} "${args.join(' ')}"`, 'message', target.name, code);
  const verb = args[0]?.toLowerCase();
  if (verb === 'list_remaps' || verb === 'list_pending') {
    const range = parseRange(args, target.blocks, U64_MAX);
    if (!range) throw refuse();
    const last = range.first + range.count - 1;
    return verb === 'list_remaps'
      ? Array.from(target.remaps.list(range.first, last), ([block, slot]) => `${block} ${slot}`).join('\n')
      : target.pending.filter((block) => block >= range.first && block <= last).join('\n');
  }
  if (verb === 'remap') {
    const range = args.length >= 2 ? parseRange(args, target.blocks, 1n) : undefined;
    if (!range) throw refuse();
    if (!target.resumed) throw refuse('EBUSY', 'device is not resumed:');
    remapProactively(target, range.first, range.count, () =>
      refuse('ENOSPC', 'no slot left on the spare for'),
    );
    return '';
  }
  if (verb === 'clear_stats' && args.length === 1) {
    const status = target.status;
    Object.assign(status, { readErrors: 0, writeErrors: 0, remapFailures: 0 });
    for (const key of ['other_errors', 'lost_sectors']) if (key in status.extra) status.extra[key] = '0';
    if (status.health === 'metadata_error' || status.health === 'failing') status.health = 'ok';
    return '';
  }
  throw refuse();
}

/** parse_range(): [first, first + count) within the device, or undefined for the module's EINVAL. */
function parseRange(
  args: readonly string[],
  limit: number,
  defaultCount: bigint,
): { first: number; count: number } | undefined {
  const number = (word: string | undefined, fallback: bigint) => {
    if (word === undefined) return fallback;
    if (!/^\+?\d+$/.test(word)) return undefined; // kstrtou64, base 10
    const value = BigInt(word);
    return value > U64_MAX ? undefined : value;
  };
  const first = number(args[1], 0n);
  const count = number(args[2], defaultCount);
  if (first === undefined || count === undefined || args.length > 3) return undefined;
  if (first >= BigInt(limit) || count === 0n) return undefined;
  const cut = count < BigInt(limit) - first ? count : BigInt(limit) - first;
  return { first: Number(first), count: Number(cut) };
}

/** remap_proactive(): runs of blocks not yet remapped, each onto the next free slots, until none is left. */
function remapProactively(
  target: SimulatedTarget,
  first: number,
  count: number,
  noSpace: () => KernelError,
): void {
  const { remaps, status } = target;
  const stepBlocks = Math.min(STEP_MAX_BLOCKS, STEP_MAX_BYTES / (target.blockSectors * 512));
  const free = Math.max(0, status.spareBlocksTotal - status.spareBlocksUsed);
  const moved = remaps.add(first, count, free);
  if (moved > 0) {
    status.remappedBlocks += moved;
    status.spareBlocksUsed += moved;
    status.metadataSequence += Math.ceil(moved / stepBlocks);
  }
  if (status.spareBlocksUsed >= status.spareBlocksTotal) status.health = 'spare_full';
  else if (status.health === 'ok') status.health = 'degraded';
  const left = remaps.unremappedIn(first, count, stepBlocks);
  if (left > 0) {
    // The step that found no free slot counts its blocks as failed moves.
    status.remapFailures += left;
    throw noSpace();
  }
}
