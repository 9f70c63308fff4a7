/**
 * Reads the target's `list_remaps` / `list_pending` replies a page at a time.
 *
 * The messages take a range of main blocks, not a number of entries, and a
 * reply holds every entry in its range (dmsetup grows its buffer until it
 * fits). So each message asks for a range sized from what the last one
 * found: a range that held few entries is widened (a sparse disk is crossed
 * in few messages), one that held many is narrowed (a dense one comes back
 * in replies of about PAGE_ENTRIES). A reply holds no more lines than its
 * range has blocks, nor more than the device has entries; where a long
 * sparse stretch ends in a dense one, that one reply can hold up to
 * MAX_RANGE entries (a few MiB of dmsetup output at most) before the range
 * narrows again.
 */
import type { KernelAdapter } from '../kernel/adapter.js';

export type TargetList = 'list_remaps' | 'list_pending';

export interface ListRange {
  /** The first block to list. */
  from: number;
  /** The device's blocks (the table's length over its block size): listing ends there. */
  blocks: number;
  /**
   * How many entries there are from `from` on, when known (the status counts
   * them, so from block 0): listing stops once that many were seen.
   */
  expected?: number;
}

/** Entries a reply aims at: about 100 KiB of dmsetup output. */
export const PAGE_ENTRIES = 4096;
/** The widest range one message asks for, so that a dense region after a sparse one stays a bounded reply. */
const MAX_RANGE = PAGE_ENTRIES * 64;

/** Each entry as the target prints it: [block, slot] for list_remaps, [block] for list_pending. */
export async function* listTargetEntries(
  kernel: KernelAdapter,
  name: string,
  list: TargetList,
  range: ListRange,
  signal?: AbortSignal,
): AsyncGenerator<number[]> {
  let at = range.from;
  let width = PAGE_ENTRIES;
  let seen = 0;
  while (at < range.blocks && (range.expected === undefined || seen < range.expected)) {
    const count = Math.min(width, range.blocks - at);
    const reply = await kernel.message(name, [list, String(at), String(count)], signal);
    const lines = reply === '' ? [] : reply.split('\n');
    for (const line of lines) yield line.split(' ').map(Number);
    seen += lines.length;
    at += count;
    width = nextWidth(width, lines.length);
  }
}

/** Aim the next range at PAGE_ENTRIES entries at the density just seen, growing at most 4 times. */
function nextWidth(width: number, found: number): number {
  const aimed = found === 0 ? width * 4 : Math.floor((width * PAGE_ENTRIES) / found);
  return Math.max(1, Math.min(MAX_RANGE, width * 4, aimed));
}
