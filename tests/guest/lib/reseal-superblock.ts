/**
 * Guest test tool: change u64 fields of one dm-remap superblock copy on a
 * spare and seal it again with a valid checksum, so a test can present the
 * module with two valid copies that differ (the module must repair from the
 * newer one). The checksum is the reconciler's own (spare-superblock.ts).
 *
 *   node --import tsx/esm tests/guest/lib/reseal-superblock.ts DEV a|b OFFSET=DELTA...
 *
 * OFFSET is a byte offset of a u64 field (80 seq, 24 spare_sectors); DELTA is
 * added to it (negative to subtract). Prints the sealed sector in hex.
 */
import { open } from 'node:fs/promises';

import { SECTOR_BYTES, SUPERBLOCK_OFFSETS, sectorCrc } from '../../../reconciler/kernel/spare-superblock.js';

async function main(argv: string[]): Promise<void> {
  const [device, copy, ...changes] = argv;
  if (device === undefined || (copy !== 'a' && copy !== 'b') || changes.length === 0) {
    throw new Error('usage: reseal-superblock.ts DEV a|b OFFSET=DELTA...');
  }
  const position = SUPERBLOCK_OFFSETS[copy === 'a' ? 0 : 1];
  const file = await open(device, 'r+');
  try {
    const sector = Buffer.alloc(SECTOR_BYTES);
    await file.read(sector, 0, SECTOR_BYTES, position);
    for (const change of changes) {
      const match = /^(\d+)=(-?\d+)$/.exec(change);
      if (!match) throw new Error(`"${change}" is not OFFSET=DELTA`);
      const offset = Number(match[1]);
      sector.writeBigUInt64LE(sector.readBigUInt64LE(offset) + BigInt(match[2]!), offset);
    }
    sector.writeUInt32LE(sectorCrc(sector), 4);
    await file.write(sector, 0, SECTOR_BYTES, position);
    await file.sync();
    process.stdout.write(`${sector.toString('hex')}\n`);
  } finally {
    await file.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`reseal-superblock: ${(error as Error).message}\n`);
  process.exit(1);
});
