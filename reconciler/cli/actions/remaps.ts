/**
 * `dm-remap remaps NAME [--from BLOCK] [--count N] [--pending] [-o json]`:
 * which blocks of a device the target has moved to the spare, and where
 * (its `list_remaps`), or which blocks main could not read (`list_pending`).
 * Read in pages (targetLists.ts) and printed as they come, so 100,000 remaps
 * stream out without one huge reply. `--count` lists at most N entries and
 * says which block to go on from (`next` in JSON: the next entry's block, or
 * null when there is none). Exit 1 when NAME is not a running remap device
 * dm-remap owns.
 */
import type { CliIo } from '../io.js';
import { UsageError } from '../errors.js';
import { ownedRemapDevice, wholeNumber, withKernel } from '../adminSupport.js';
import { listTargetEntries } from '../targetLists.js';
import type { RemapsOptions } from '../commands/remaps.js';

/** How entries are printed: as table rows or as the elements of a JSON array, streamed either way. */
interface EntryPrinter {
  start(): void;
  entry(fields: readonly number[]): void;
  end(next: number | null): void;
}

export async function remapsCommand(name: string, options: RemapsOptions, io: CliIo): Promise<void> {
  const from = options.from === undefined ? 0 : wholeNumber('--from', options.from, 0);
  const limit = options.count === undefined ? Infinity : wholeNumber('--count', options.count, 1);
  const list = options.pending ? 'list_pending' : 'list_remaps';
  await withKernel(options, io, `remaps ${name}`, async (kernel, observation) => {
    const device = ownedRemapDevice(observation, name);
    if (from >= device.blocks) {
      throw new UsageError(
        `--from: block ${from} is beyond the last block of ${name} (${device.blocks - 1})`,
      );
    }
    const counted = options.pending ? device.status.pendingBlocks : device.status.remappedBlocks;
    const printer =
      options.output === 'json'
        ? jsonPrinter(io, name, device.blockSizeBytes, options.pending ?? false)
        : tablePrinter(io, name, options.pending ?? false);
    printer.start();
    let listed = 0;
    let next: number | null = null;
    // Counted from block 0, the status says when every entry has been seen.
    const range = { from, blocks: device.blocks, ...(from === 0 ? { expected: counted } : {}) };
    for await (const fields of listTargetEntries(kernel, name, list, range)) {
      if (listed === limit) {
        next = fields[0]!;
        break;
      }
      printer.entry(fields);
      listed += 1;
    }
    printer.end(next);
  });
}

function tablePrinter(io: CliIo, name: string, pending: boolean): EntryPrinter {
  const cell = (value: number | string) => String(value).padStart(12);
  return {
    start: () => io.stdout(pending ? `${cell('BLOCK')}\n` : `${cell('BLOCK')} ${cell('SPARE BLOCK')}\n`),
    entry: (fields) => io.stdout(`${fields.map(cell).join(' ')}\n`),
    end: (next) => {
      const verb = pending ? 'remaps --pending' : 'remaps';
      if (next !== null) io.stdout(`(more from block ${next}: dm-remap ${verb} ${name} --from ${next})\n`);
    },
  };
}

function jsonPrinter(io: CliIo, name: string, blockSize: number, pending: boolean): EntryPrinter {
  let first = true;
  const head = JSON.stringify({ device: name, blockSize }).slice(0, -1);
  return {
    start: () => io.stdout(`${head},"${pending ? 'pending' : 'remaps'}":[`),
    entry: ([block, slot]) => {
      io.stdout(`${first ? '' : ','}\n  ${JSON.stringify(pending ? block : { block, spareBlock: slot })}`);
      first = false;
    },
    end: (next) => io.stdout(`${first ? '' : '\n'}],"next":${JSON.stringify(next)}}\n`),
  };
}
