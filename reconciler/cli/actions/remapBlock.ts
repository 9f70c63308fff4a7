/**
 * `dm-remap remap-block NAME BLOCK [COUNT]`: a proactive remap — copy blocks
 * [BLOCK, BLOCK + COUNT) to the spare while main can still read them, then
 * remap them (the target's `remap` message; already remapped blocks are
 * skipped, sectors main cannot read are zeroed and counted in lost_sectors).
 * A long range goes in chunks of CHUNK_BLOCKS, one message each: progress is
 * shown between them (on a terminal, or with --progress) and an interrupt
 * (SIGINT) stops the work between two chunks, saying what was moved (exit
 * 75; a terminal's Ctrl-C also reaches the dmsetup in flight, whose chunk
 * is then reported as possibly moved). Prints what the spare holds afterwards. Exit 1 when the device is not
 * an owned, running remap device, or the target refuses (ENOSPC: the blocks
 * that fit were moved, and the line before the error says how many).
 */
import type { CliIo } from '../io.js';
import { ExitCode, ExitError, UsageError } from '../errors.js';
import { KernelError } from '../../kernel/adapter.js';
import type { KernelAdapter, RemapStatus } from '../../kernel/adapter.js';
import { ownedRemapDevice, wholeNumber, withKernel } from '../adminSupport.js';
import { spareUsagePercent } from '../../health/conditions.js';
import { CHUNK_BLOCKS } from '../commands/remapBlock.js';
import type { RemapBlockOptions } from '../commands/remapBlock.js';

export async function remapBlockCommand(
  name: string,
  block: string,
  count: string | undefined,
  options: RemapBlockOptions,
  io: CliIo,
  interrupt?: AbortSignal,
): Promise<void> {
  if (interrupt) return remapBlocks(name, block, count, options, io, interrupt);
  // The first SIGINT stops between chunks; a second one, with no listener left, ends the process.
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  try {
    return await remapBlocks(name, block, count, options, io, controller.signal);
  } finally {
    process.off('SIGINT', stop);
  }
}

async function remapBlocks(
  name: string,
  block: string,
  count: string | undefined,
  options: RemapBlockOptions,
  io: CliIo,
  interrupt: AbortSignal,
): Promise<void> {
  const first = wholeNumber('BLOCK', block, 0);
  const blocks = count === undefined ? 1 : wholeNumber('COUNT', count, 1);
  const end = first + blocks;
  const range = (from: number, to: number) =>
    to - from === 1 ? `block ${from}` : `blocks ${from} to ${to - 1}`;
  const progress = progressPrinter(io, name, blocks, options.progress);
  await withKernel(options, io, `remap-block ${name}`, async (kernel, observation) => {
    const device = ownedRemapDevice(observation, name);
    if (end > device.blocks) {
      throw new UsageError(`${range(first, end)}: the last block of ${name} is ${device.blocks - 1}`);
    }
    let at = first;
    let chunk = 0;
    const stopped = async (inFlight: number): Promise<never> => {
      progress.finish();
      const status = await statusOf(kernel, name);
      const parts = [
        ...(at > first ? [`${range(first, at)} moved to the spare`] : []),
        // Ctrl-C on a terminal reaches dmsetup too: the kernel finishes the message, dmsetup may not report it.
        ...(inFlight > 0
          ? [`${range(at, at + inFlight)} may have been moved (the interrupt stopped dmsetup mid-message)`]
          : []),
        ...(at + inFlight < end ? [`${range(at + inFlight, end)} not`] : []),
      ];
      io.stdout(`${name}: interrupted: ${parts.join(', ')}${spareSummary(status)}\n`);
      throw new ExitError(ExitCode.unfinished);
    };
    try {
      while (at < end) {
        if (interrupt.aborted) await stopped(0);
        chunk = Math.min(CHUNK_BLOCKS, end - at);
        await kernel.message(name, ['remap', String(at), String(chunk)]);
        at += chunk;
        progress.update(at - first);
      }
    } catch (error) {
      if (error instanceof KernelError && interrupt.aborted) await stopped(chunk);
      progress.finish();
      if (error instanceof KernelError && error.code === 'ENOSPC') {
        const status = await statusOf(kernel, name);
        const moved = status ? status.remappedBlocks - device.status.remappedBlocks : 0;
        io.stdout(
          `${name}: the spare is full: ${moved} of ${range(first, end)} were moved to it${spareSummary(status)}\n`,
        );
      }
      throw error;
    }
    progress.finish();
    io.stdout(
      `${name}: ${range(first, end)} moved to the spare${spareSummary(await statusOf(kernel, name))}\n`,
    );
  });
}

async function statusOf(kernel: KernelAdapter, name: string): Promise<RemapStatus | undefined> {
  return (await kernel.observe()).devices.find((device) => device.name === name)?.remap?.status;
}

function spareSummary(status: RemapStatus | undefined): string {
  return status
    ? `; remapped ${status.remappedBlocks}, spare ${status.spareBlocksUsed}/${status.spareBlocksTotal} (${spareUsagePercent(status)}%)`
    : '';
}

/**
 * Progress on stderr after each chunk: rewritten in place on a terminal, one
 * line per chunk with --progress (a log), nothing otherwise.
 */
function progressPrinter(io: CliIo, name: string, blocks: number, asked: boolean | undefined) {
  const inPlace = asked === undefined && process.stderr.isTTY;
  let open = false;
  return {
    update(done: number): void {
      if (!asked && !inPlace) return;
      const line = `remap-block ${name}: ${done} of ${blocks} blocks (${Math.floor((done * 100) / blocks)}%)`;
      io.stderr(inPlace ? `\r${line}` : `${line}\n`);
      open = inPlace;
    },
    /** Ends a line rewritten in place, so what follows starts on its own. */
    finish(): void {
      if (open) io.stderr('\n');
      open = false;
    },
  };
}
