/**
 * The remap index of the simulated target: which main blocks are remapped and
 * to which spare slot. The module hands out slots in the order blocks are
 * remapped (slot n is the n-th remap) and a proactive remap moves a range at
 * once, so the remaps are kept as runs — consecutive blocks on consecutive
 * slots — and a spare with 100,000 remaps made by a few messages is a few
 * objects. Inserting a run is linear in the number of runs: fine for tests,
 * which remap in few, mostly ascending ranges.
 */

/** `count` blocks from `block` on, remapped to the slots from `slot` on. */
interface RemapRun {
  block: number;
  slot: number;
  count: number;
}

/** The saved form of one run: [block, slot, count]. */
export type SavedRemapRun = [number, number, number];

export class RemapRuns {
  /** Sorted by block, never overlapping. */
  private readonly runs: RemapRun[] = [];
  private total = 0;

  /** Remapped blocks, which is also the next free slot. */
  get size(): number {
    return this.total;
  }

  /**
   * Remap the blocks of [first, first + count) that are not remapped yet,
   * in ascending order, at most `limit` of them. Returns how many were added.
   */
  add(first: number, count: number, limit = Number.POSITIVE_INFINITY): number {
    const end = first + count;
    let added = 0;
    let block = first;
    let index = this.firstEndingAfter(block);
    while (block < end && added < limit) {
      const next = this.runs[index];
      if (next && next.block <= block) {
        block = next.block + next.count; // already remapped: skipped, as the module skips them
        index += 1;
        continue;
      }
      const gapEnd = Math.min(end, next ? next.block : end);
      const length = Math.min(gapEnd - block, limit - added);
      index = this.insert(index, { block, slot: this.total, count: length });
      this.total += length;
      added += length;
      block += length;
    }
    return added;
  }

  /** Length of the first run of blocks not remapped in [first, first + count), at most `max`; 0 when none. */
  unremappedIn(first: number, count: number, max: number): number {
    const end = first + count;
    let block = first;
    for (let index = this.firstEndingAfter(block); block < end; index += 1) {
      const run = this.runs[index];
      if (!run || run.block > block) return Math.min(max, (run ? Math.min(run.block, end) : end) - block);
      block = run.block + run.count;
    }
    return 0;
  }

  /** Every remap with a block in [first, last], ascending: [block, slot]. */
  *list(first: number, last: number): Generator<[number, number]> {
    for (let index = this.firstEndingAfter(first); index < this.runs.length; index += 1) {
      const run = this.runs[index]!;
      if (run.block > last) return;
      const from = Math.max(first, run.block);
      const to = Math.min(last, run.block + run.count - 1);
      for (let block = from; block <= to; block += 1) yield [block, run.slot + block - run.block];
    }
  }

  toJSON(): SavedRemapRun[] {
    return this.runs.map((run) => [run.block, run.slot, run.count]);
  }

  static fromJSON(saved: unknown): RemapRuns {
    const runs = new RemapRuns();
    if (!Array.isArray(saved)) throw new TypeError('saved remaps: not a list of remap runs');
    let end = 0;
    for (const entry of saved as unknown[]) {
      const valid =
        Array.isArray(entry) &&
        entry.length === 3 &&
        entry.every((n) => Number.isSafeInteger(n) && (n as number) >= 0) &&
        (entry[2] as number) > 0;
      if (!valid) throw new TypeError(`saved remaps: ${JSON.stringify(entry)} is not a remap run`);
      const [block, slot, count] = entry as SavedRemapRun;
      if (block < end) throw new TypeError(`saved remaps: run at block ${block} is out of order or overlaps`);
      runs.runs.push({ block, slot, count });
      runs.total += count;
      end = block + count;
    }
    return runs;
  }

  /** Index of the first run that ends after `block` (the one holding it, or the next). */
  private firstEndingAfter(block: number): number {
    let low = 0;
    let high = this.runs.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const run = this.runs[middle]!;
      if (run.block + run.count <= block) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Put `run` at `index`, merged into the run before when it continues it; returns the index after it. */
  private insert(index: number, run: RemapRun): number {
    const before = this.runs[index - 1];
    if (before && before.block + before.count === run.block && before.slot + before.count === run.slot) {
      before.count += run.count;
      return index;
    }
    this.runs.splice(index, 0, run);
    return index + 1;
  }
}
