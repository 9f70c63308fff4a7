/**
 * The contract fixture for DmsetupKernel on a real kernel (run as root in the
 * guest): loop devices over sparse files as backing block devices, dmsetup
 * run directly for devices "another tool" made, an open file descriptor on
 * /dev/dm-N to hold a device open, and a counting process runner.
 */
import { mkdtemp, open, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { inspectBlockDevice } from '../../reconciler/kernel/block-device.js';
import { DmsetupKernel } from '../../reconciler/kernel/dmsetup.js';
import { INFO_ARGS, parseInfoColumns } from '../../reconciler/kernel/dmsetup-parse.js';
import { runProcess } from '../../reconciler/kernel/process.js';
import type { ProcessRunner } from '../../reconciler/kernel/process.js';
import type { ContractFixture } from './fixture.js';

const TIMEOUT = { timeoutMs: 30_000 };

export interface RealFixtureOptions {
  /** Use the linear fallback even if the remap module loads. */
  forceLinear?: boolean;
}

export async function realFixture(options: RealFixtureOptions = {}): Promise<ContractFixture> {
  const counts = new Map<string, number>();
  /** Status args to show instead of the module's, by device name (garbleStatus). */
  const garbled = new Map<string, string>();
  const countingRunner: ProcessRunner = async (file, args, processOptions) => {
    const key = file === 'modprobe' ? 'modprobe' : (args[0] ?? '');
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const result = await runProcess(file, args, processOptions);
    return key === 'status' ? { ...result, stdout: garbleStatusLines(result.stdout, garbled) } : result;
  };
  const kernel = new DmsetupKernel({ runner: countingRunner });
  let remapAvailable = false;
  if (!options.forceLinear) {
    try {
      await kernel.loadModule();
      remapAvailable = true;
    } catch {
      remapAvailable = false;
    }
  }
  const directory = await mkdtemp(join(tmpdir(), 'dm-remap-contract-'));
  const loops: string[] = [];
  const prefix = `ct${process.pid}-`;
  let nextName = 0;
  let nextFile = 0;
  const dmsetup = (args: string[]) => runProcess('dmsetup', args, TIMEOUT);

  return {
    kernel,
    remapAvailable,
    async blockDevice(sizeSectors) {
      const file = join(directory, `disk${nextFile++}.img`);
      await (await open(file, 'w')).close();
      await truncate(file, sizeSectors * 512);
      const loop = (await runProcess('losetup', ['-f', '--show', file], TIMEOUT)).stdout.trim();
      loops.push(loop);
      const info = await inspectBlockDevice(loop);
      if (!info) throw new Error(`losetup made ${loop} but it does not exist`);
      return info;
    },
    async writeBlockDevice(device, offset, bytes) {
      const handle = await open(device.path, 'r+');
      try {
        await handle.write(bytes, 0, bytes.length, offset);
        await handle.sync(); // on disk before a table load reads it with dm_io, past the page cache
      } finally {
        await handle.close();
      }
    },
    async holdOpen(name) {
      const row = await findRow(name);
      const handle = await open(`/dev/dm-${row.minor}`, 'r');
      return () => handle.close();
    },
    async createForeign(name, uuid, table) {
      await dmsetup(['create', ...(uuid === '' ? [] : ['-u', uuid]), '--table', table, '--', name]);
    },
    async createHalfDone(name, uuid, inactiveTable) {
      await dmsetup(['create', '-u', uuid, '--notable', '--', name]);
      if (inactiveTable !== undefined) await dmsetup(['load', '--table', inactiveTable, '--', name]);
    },
    garbleStatus(name, printed) {
      garbled.set(name, printed);
    },
    processCount(command) {
      return counts.get(command) ?? 0;
    },
    uniqueName(stem) {
      return `${prefix}${stem}-${nextName++}`;
    },
    async cleanup() {
      const rows = parseInfoColumns((await dmsetup([...INFO_ARGS])).stdout);
      // Stacked devices first would matter; the cases stack nothing, so name order is fine.
      for (const row of rows.filter((candidate) => candidate.name.startsWith(prefix))) {
        await dmsetup(['remove', '--retry', '-u', row.uuid]).catch(() =>
          dmsetup(['remove', '--retry', '--', row.name]),
        );
      }
      for (const loop of loops) await runProcess('losetup', ['-d', loop], TIMEOUT);
      await rm(directory, { recursive: true, force: true });
    },
  };

  async function findRow(name: string) {
    const rows = parseInfoColumns((await dmsetup([...INFO_ARGS])).stdout);
    const row = rows.find((candidate) => candidate.name === name);
    if (!row) throw new Error(`${name} is not a device`);
    return row;
  }
}

/** Replace the args of the `dmsetup status` lines of the garbled devices, keeping `NAME: <start> <len> <target>`. */
function garbleStatusLines(stdout: string, garbled: ReadonlyMap<string, string>): string {
  return stdout
    .split('\n')
    .map((line) => {
      for (const [name, printed] of garbled) {
        if (!line.startsWith(`${name}: `)) continue;
        const head = line
          .slice(name.length + 2)
          .split(' ')
          .slice(0, 3)
          .join(' ');
        return `${name}: ${head} ${printed}`;
      }
      return line;
    })
    .join('\n');
}
