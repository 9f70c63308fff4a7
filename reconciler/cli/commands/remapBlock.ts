/**
 * `dm-remap remap-block` as commander sees it: arguments, options and help.
 * What it does is in actions/remapBlock.ts, imported only when it runs.
 */
import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliIo } from '../io.js';
import { addKernelOption } from '../options.js';
import type { KernelOptions } from '../options.js';

/** Blocks one message moves: a few seconds of copying on a slow disk, so an interrupt is heard soon. */
export const CHUNK_BLOCKS = 4096;

export interface RemapBlockOptions extends KernelOptions {
  progress?: boolean;
}

export const command: CliCommand = {
  register(program: Command, io: CliIo) {
    const verb = program
      .command('remap-block')
      .summary('move blocks to the spare before they fail (proactive remap)')
      .argument('<name>', 'the device')
      .argument('<block>', 'the first block (in the device block size, from 0)')
      .argument('[count]', 'how many blocks (default 1)')
      .option('--progress', 'print progress on stderr after each chunk (default: when stderr is a terminal)')
      .description(
        "Send the target's remap message: copy the blocks to the spare while main can still read them, then " +
          'remap them (already remapped blocks are skipped; sectors main cannot read are zeroed and counted in ' +
          `lost_sectors), ${CHUNK_BLOCKS} blocks per message. An interrupt (Ctrl-C) stops between two messages ` +
          'and says what was moved (exit status 75). Exit status 1 when NAME is not a running device dm-remap ' +
          'owns, or the target refuses (ENOSPC: the blocks that fit were moved, and how many is said).',
      );
    addKernelOption(verb).action(
      async (name: string, block: string, count: string | undefined, options: RemapBlockOptions) => {
        const { remapBlockCommand } = await import('../actions/remapBlock.js');
        await remapBlockCommand(name, block, count, options, io);
      },
    );
  },
};
