/**
 * `dm-remap remap-block NAME BLOCK [COUNT]`: a proactive remap — copy blocks
 * [BLOCK, BLOCK + COUNT) to the spare while main can still read them, then
 * remap them (the target's `remap` message; already remapped blocks are
 * skipped, sectors main cannot read are zeroed and counted in lost_sectors).
 * Prints what the spare holds afterwards. Exit 1 when the device is not an
 * owned, running remap device, or the target refuses (ENOSPC: the blocks that
 * fit were moved).
 */
import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { addKernelOption, wholeNumber, withKernel } from '../adminSupport.js';
import type { KernelOptions } from '../adminSupport.js';
import { spareUsagePercent } from '../../health/conditions.js';

export async function remapBlockCommand(
  name: string,
  block: string,
  count: string | undefined,
  options: KernelOptions,
  io: CliIo,
): Promise<void> {
  const first = wholeNumber('BLOCK', block, 0);
  const blocks = count === undefined ? 1 : wholeNumber('COUNT', count, 1);
  const status = await withKernel(options, io, `remap-block ${name}`, async (kernel) => {
    await kernel.message(name, ['remap', String(first), String(blocks)]);
    return (await kernel.observe()).devices.find((device) => device.name === name)?.remap?.status;
  });
  const range = blocks === 1 ? `block ${first}` : `blocks ${first} to ${first + blocks - 1}`;
  const spare = status
    ? `; remapped ${status.remappedBlocks}, spare ${status.spareBlocksUsed}/${status.spareBlocksTotal} (${spareUsagePercent(status)}%)`
    : '';
  io.stdout(`${name}: ${range} moved to the spare${spare}\n`);
}

export const command: CliCommand = {
  register(program: Command, io: CliIo) {
    const verb = program
      .command('remap-block')
      .summary('move blocks to the spare before they fail (proactive remap)')
      .argument('<name>', 'the device')
      .argument('<block>', 'the first block (in the device block size, from 0)')
      .argument('[count]', 'how many blocks (default 1)')
      .description(
        "Send the target's remap message: copy the blocks to the spare while main can still read them, then " +
          'remap them (already remapped blocks are skipped; sectors main cannot read are zeroed and counted in ' +
          'lost_sectors). Exit status 1 when NAME is not a running device dm-remap owns, or the target refuses ' +
          '(ENOSPC: the blocks that fit were moved).',
      );
    addKernelOption(verb).action(
      (name: string, block: string, count: string | undefined, options: KernelOptions) =>
        remapBlockCommand(name, block, count, options, io),
    );
  },
};
