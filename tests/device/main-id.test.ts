/** Which main_id a new table carries: every row of the rule in reconciler/device/main-id.ts. */
import test from 'ava';

import type { BlockDeviceInfo, SpareMetadata } from '../../reconciler/kernel/adapter.js';
import { decideMainId } from '../../reconciler/device/main-id.js';

const WITH_ID: BlockDeviceInfo = {
  path: '/run/disks/main',
  majorMinor: '8:16',
  sizeSectors: 2048,
  identity: { source: '/sys/dev/block/8:16/device/wwid', value: 'naa.b', mainId: 'naa.b' },
};
const WITHOUT_ID: BlockDeviceInfo = { path: '/dev/loop0', majorMinor: '7:0', sizeSectors: 2048 };
const SPARE: BlockDeviceInfo = { path: '/dev/sdc', majorMinor: '8:32', sizeSectors: 1024 };

function formatted(mainId: string): SpareMetadata {
  return {
    state: 'formatted',
    superblock: { version: 1, blockSectors: 8, mainSectors: 2048, spareSectors: 1024, sequence: 1, mainId },
  };
}

function decide(main: BlockDeviceInfo, metadata: SpareMetadata | undefined) {
  return decideMainId({ mainPath: main.path, sparePath: SPARE.path, main, spare: SPARE, metadata });
}

test('blank spare, main with identity: its main_id, nothing to warn about', (t) => {
  t.deepEqual(decide(WITH_ID, { state: 'blank' }), { kind: 'pass', mainId: 'naa.b' });
});

test('blank spare, main without identity: no main_id, and a warning naming the main', (t) => {
  const decision = decide(WITHOUT_ID, { state: 'blank' });
  t.like(decision, { kind: 'pass', mainId: undefined });
  t.regex(
    decision.kind === 'pass' ? (decision.warning ?? '') : '',
    /^the main device \/dev\/loop0 \(7:0\) has no stable identity/,
  );
});

test('spare formatted for this main: its main_id again', (t) => {
  t.deepEqual(decide(WITH_ID, formatted('naa.b')), { kind: 'pass', mainId: 'naa.b' });
});

test('spare formatted for another main: refused, naming both identities and both paths', (t) => {
  const decision = decide(WITH_ID, formatted('naa.a'));
  t.is(decision.kind, 'refuse');
  t.is(
    decision.kind === 'refuse' ? decision.reason : '',
    'the spare /dev/sdc (8:32) belongs to the main disk "naa.a", but the main device /run/disks/main (8:16) ' +
      'is "naa.b" (read from /sys/dev/block/8:16/device/wwid): /run/disks/main is not the disk this spare ' +
      "belongs to (disk names can change between boots); point mainDevice at that disk, or spareDevice at this disk's " +
      'own spare, e.g. by /dev/disk/by-id names',
  );
});

test('spare formatted with a main_id, main without identity: refused', (t) => {
  const decision = decide(WITHOUT_ID, formatted('naa.a'));
  t.is(decision.kind, 'refuse');
  t.regex(decision.kind === 'refuse' ? decision.reason : '', /\/dev\/loop0 \(7:0\) has no stable identity: /);
});

test('spare formatted without main_id: none, whatever the main is, with the legacy warning', (t) => {
  for (const main of [WITH_ID, WITHOUT_ID]) {
    const decision = decide(main, formatted(''));
    t.like(decision, { kind: 'pass', mainId: undefined });
    t.regex(
      decision.kind === 'pass' ? (decision.warning ?? '') : '',
      /formatted without a main_id .* not protected against disks trading names/,
    );
  }
});

test('spare unreadable, corrupt or not read: the main_id of the main, and the kernel decides', (t) => {
  for (const metadata of [{ state: 'unknown', reason: 'cannot read /dev/sdc: EIO' } as const, undefined]) {
    const decision = decide(WITH_ID, metadata);
    t.like(decision, { kind: 'pass', mainId: 'naa.b' });
    t.regex(
      decision.kind === 'pass' ? (decision.warning ?? '') : '',
      /^cannot tell what the spare \/dev\/sdc \(8:32\) belongs to \((cannot read \/dev\/sdc: EIO|it was not read)\); creating with main_id naa\.b and leaving the verdict to the kernel/,
    );
  }
  t.like(decide(WITHOUT_ID, { state: 'unknown', reason: 'x' }), { kind: 'pass', mainId: undefined });
});
