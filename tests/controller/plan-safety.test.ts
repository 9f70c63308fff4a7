/**
 * The planner's safety rules that do not depend on the kernel showing the
 * device: the applied-state record guards a spare the device is not running
 * on (after a removal or a reboot), removal acts only from a config dir that
 * is valid throughout, what a crash left is repaired whatever the spec says,
 * and a device whose status cannot be read fails alone.
 */
import test from 'ava';
import { plan, planDevice } from '../../reconciler/controller/plan.js';
import type { Operation, PlanInput } from '../../reconciler/controller/plan.js';
import { FakeObservation } from './builders.js';

const kinds = (operations: Operation[]) => operations.map((operation) => operation.kind);
const NEW_SPARE = '/dev/disk/by-id/new-spare';
const SUPERBLOCK = {
  version: 1,
  blockSectors: 8,
  mainSectors: 2_097_152,
  spareSectors: 262_144,
  sequence: 1,
  mainId: '',
};

/** Device a is down (not in the kernel); its spec now names NEW_SPARE, a blank disk. */
function downWithNewSpare(world: FakeObservation): PlanInput {
  const built = world.blockDevice(NEW_SPARE, 4096).spare(NEW_SPARE, { state: 'blank' }).build();
  return { ...built, specs: built.specs.map((spec) => ({ ...spec, spareDevice: NEW_SPARE })) };
}

test('a device that is down is not created on a new spare while its old spare held remaps', (t) => {
  const input = downWithNewSpare(new FakeObservation().spec('a').appliedRecord('a', { remappedBlocks: 2 }));
  const [operation] = planDevice('a', input).operations;
  t.like(operation, { kind: 'refuse', code: 'wouldStrandData' });
  t.regex(operation?.reason ?? '', /spare \/dev\/disk\/by-id\/a-spare held 2 remapped and 0 pending blocks/);
  t.regex(operation?.reason ?? '', /dm-remap apply --accept-data-loss a/);
});

test('pending blocks on the old spare also refuse a new spare', (t) => {
  const input = downWithNewSpare(new FakeObservation().spec('a').appliedRecord('a', { pendingBlocks: 1 }));
  t.like(planDevice('a', input).operations[0], { kind: 'refuse', code: 'wouldStrandData' });
});

test('a record whose status was unreadable counts as holding data', (t) => {
  const input = downWithNewSpare(new FakeObservation().spec('a').appliedRecord('a', { statusUnknown: true }));
  t.like(planDevice('a', input).operations[0], { kind: 'refuse', code: 'wouldStrandData' });
});

/** Device a last ran on spare format f1 with no remaps recorded; its old spare now shows format `formatId` holding 3. */
function oldSpareNowHolds(formatId: string): PlanInput {
  const world = new FakeObservation()
    .spec('a')
    .appliedRecord('a', { spare: { path: '/dev/disk/by-id/a-spare', majorMinor: '8:1', formatId: 'f1' } })
    .spare('/dev/disk/by-id/a-spare', {
      state: 'formatted',
      superblock: { ...SUPERBLOCK, formatId },
      remapCount: 3,
    });
  return downWithNewSpare(world);
}

test('remaps made after the last pass count: the old spare is read, not only the record', (t) => {
  const [operation] = planDevice('a', oldSpareNowHolds('f1')).operations;
  t.like(operation, { kind: 'refuse', code: 'wouldStrandData' });
  t.regex(operation?.reason ?? '', /holds 3 remapped blocks \(read from its metadata now\)/);
});

test('remaps on a later format of the old spare are not its remaps', (t) => {
  t.deepEqual(kinds(planDevice('a', oldSpareNowHolds('f2')).operations), ['create']);
});

test('a new spare goes ahead when the old one held nothing', (t) => {
  const input = downWithNewSpare(new FakeObservation().spec('a').appliedRecord('a'));
  t.deepEqual(kinds(planDevice('a', input).operations), ['create']);
});

test('the device comes back on the spare it last ran on', (t) => {
  const world = new FakeObservation()
    .spec('a')
    .appliedRecord('a', { remappedBlocks: 2, spare: { path: '/dev/disk/by-id/a-spare', majorMinor: '8:99' } })
    .spare('/dev/disk/by-id/a-spare', {
      state: 'formatted',
      superblock: { ...SUPERBLOCK, sequence: 4 },
    });
  // The major:minor differs after a reboot: it is not what identifies the spare.
  t.deepEqual(kinds(planDevice('a', world.build()).operations), ['create']);
});

test('a new block size is refused for a device that is down while its spare held remaps', (t) => {
  const built = new FakeObservation().spec('a').appliedRecord('a', { remappedBlocks: 1 }).build();
  const input = { ...built, specs: built.specs.map((spec) => ({ ...spec, blockSizeBytes: 8192 })) };
  const [operation] = planDevice('a', input).operations;
  t.like(operation, { kind: 'refuse', code: 'wouldStrandData' });
  t.regex(operation?.reason ?? '', /blockSize \(4096 → 8192 bytes\)/);
});

test('the same path now blank is refused: the spare was replaced or wiped', (t) => {
  const world = new FakeObservation().spec('a').appliedRecord('a', { remappedBlocks: 5 });
  const [operation] = planDevice('a', world.build()).operations;
  t.like(operation, { kind: 'refuse', code: 'wouldStrandData' });
  t.regex(operation?.reason ?? '', /is blank now/);
});

test('the same path holding another disk is refused', (t) => {
  const world = new FakeObservation()
    .blockDevice('/dev/disk/by-id/a-spare', 4096, 'disk-new')
    .spec('a')
    .appliedRecord('a', {
      remappedBlocks: 5,
      spare: { path: '/dev/disk/by-id/a-spare', majorMinor: '8:1', identity: 'disk-old' },
    })
    .spare('/dev/disk/by-id/a-spare', { state: 'unknown', reason: 'unreadable' });
  const [operation] = planDevice('a', world.build()).operations;
  t.like(operation, { kind: 'refuse', code: 'wouldStrandData' });
  t.regex(operation?.reason ?? '', /is now disk disk-new; the device last ran on disk disk-old/);
});

test('the same path formatted anew (another format id) is refused', (t) => {
  const world = new FakeObservation()
    .spec('a')
    .appliedRecord('a', {
      remappedBlocks: 5,
      spare: { path: '/dev/disk/by-id/a-spare', majorMinor: '8:1', formatId: '00000000000000aa' },
    })
    .spare('/dev/disk/by-id/a-spare', {
      state: 'formatted',
      superblock: { ...SUPERBLOCK, formatId: '00000000000000bb' },
    });
  t.like(planDevice('a', world.build()).operations[0], { kind: 'refuse', code: 'wouldStrandData' });
});

test('--accept-data-loss lets the new spare go ahead for that device only', (t) => {
  const world = new FakeObservation()
    .spec('a')
    .appliedRecord('a', { remappedBlocks: 2 })
    .spec('b')
    .appliedRecord('b', { remappedBlocks: 2 });
  const built = world.blockDevice(NEW_SPARE, 4096).blockDevice('/dev/new-b', 4096).build();
  const input: PlanInput = {
    ...built,
    specs: built.specs.map((spec) => ({
      ...spec,
      spareDevice: spec.name === 'a' ? NEW_SPARE : '/dev/new-b',
    })),
    spareMetadata: new Map([
      [NEW_SPARE, { state: 'blank' }],
      ['/dev/new-b', { state: 'blank' }],
    ]),
    options: { prune: false, acceptDataLoss: new Set(['a']) },
  };
  t.deepEqual(kinds(planDevice('a', input).operations), ['create']);
  t.like(planDevice('b', input).operations[0], { kind: 'refuse', code: 'wouldStrandData' });
});

test('--accept-data-loss also lets a live device reload onto a new spare', (t) => {
  const built = new FakeObservation()
    .spec('a')
    .ownedDevice('a', {}, { remappedBlocks: 3 })
    .blockDevice(NEW_SPARE, 4096)
    .spare(NEW_SPARE, { state: 'blank' })
    .build();
  const specs = built.specs.map((spec) => ({ ...spec, spareDevice: NEW_SPARE }));
  const refused = planDevice('a', { ...built, specs });
  t.like(refused.operations[0], { kind: 'refuse', code: 'wouldStrandData' });
  t.regex(refused.operations[0]?.reason ?? '', /--accept-data-loss a/);
  const accepted = planDevice('a', {
    ...built,
    specs,
    options: { prune: false, acceptDataLoss: new Set(['a']) },
  });
  t.deepEqual(kinds(accepted.operations), ['reload']);
});

test('an unreadable applied-state record is reported and refuses a create, never acted on', (t) => {
  const world = new FakeObservation().spec('a').corruptAppliedRecord('a', 'not JSON (Unexpected end)');
  const [operation] = planDevice('a', world.build()).operations;
  t.like(operation, { kind: 'refuse', code: 'stateUnreadable' });
  t.regex(operation?.reason ?? '', /\/var\/lib\/dm-remap\/devices\/a\.json is unreadable \(not JSON/);
});

test('an unreadable applied-state record does not stop a live device from being kept', (t) => {
  const world = new FakeObservation().spec('a').ownedDevice('a').corruptAppliedRecord('a');
  t.deepEqual(kinds(planDevice('a', world.build()).operations), []);
});

test('a spec deleted while the daemon was down keeps its removalPolicy from the record', (t) => {
  // The controller seeds the last good specs from the records; the planner reads removalPolicy there.
  const world = new FakeObservation().deletedSpec('a', { removalPolicy: 'Delete' }).ownedDevice('a');
  t.deepEqual(kinds(planDevice('a', world.build()).operations), ['remove']);
});

test('a half-written file that still names one device holds every undeclared device, even with --prune', (t) => {
  // A two-document file cut before the second `name:`: only "a" can be read from it.
  const world = new FakeObservation()
    .invalidFile('/etc/dm-remap.d/pair.yaml', ['a'])
    .ownedDevice('a')
    .ownedDevice('b')
    .pruning()
    .build();
  t.deepEqual(kinds(planDevice('b', world).operations), ['hold']);
  t.regex(planDevice('b', world).operations[0]?.reason ?? '', /pair\.yaml is invalid/);
  t.false(plan(world).hasChanges);
});

test('removalPolicy Delete waits for a fully valid config dir too', (t) => {
  const world = new FakeObservation()
    .deletedSpec('b', { removalPolicy: 'Delete' })
    .ownedDevice('b')
    .invalidFile('/etc/dm-remap.d/other.yaml', ['c'])
    .build();
  t.deepEqual(kinds(planDevice('b', world).operations), ['hold']);
});

test('a held device left suspended is resumed first, then held', (t) => {
  const world = new FakeObservation().brokenSpec('a').ownedDevice('a', { suspended: true }).build();
  t.deepEqual(kinds(planDevice('a', world).operations), ['resume', 'hold']);
});

test('a held device with a stale inactive table has it cleared, then is held', (t) => {
  const world = new FakeObservation().brokenSpec('a').ownedDevice('a', { hasInactiveTable: true }).build();
  t.deepEqual(kinds(planDevice('a', world).operations), ['clearInactive', 'hold']);
});

test('a device paused when its spec was last valid stays hands-off while the file is broken', (t) => {
  const world = new FakeObservation().brokenSpec('a').ownedDevice('a', { suspended: true }).build();
  const lastGood = new Map(world.lastGood);
  const spec = lastGood.get('a');
  if (!spec) return t.fail('no last good spec');
  lastGood.set('a', { ...spec, paused: true });
  t.deepEqual(kinds(planDevice('a', { ...world, lastGood }).operations), ['hold']);
});

test('an orphan left suspended is resumed, then left alone', (t) => {
  const world = new FakeObservation().deletedSpec('a').ownedDevice('a', { suspended: true }).build();
  t.deepEqual(kinds(planDevice('a', world).operations), ['resume', 'orphan']);
});

test('a suspended device being removed is removed as it is', (t) => {
  const world = new FakeObservation().spec('a', { state: 'absent' }).ownedDevice('a', { suspended: true });
  t.deepEqual(kinds(planDevice('a', world.build()).operations), ['remove']);
});

test('a suspended device whose removal is blocked is resumed: its users must not freeze', (t) => {
  const world = new FakeObservation()
    .spec('a', { state: 'absent' })
    .ownedDevice('a', { suspended: true, openCount: 1 });
  t.deepEqual(kinds(planDevice('a', world.build()).operations), ['resume', 'blocked']);
});

test('a stale inactive table is cleared before a removal', (t) => {
  const world = new FakeObservation()
    .spec('a', { state: 'absent' })
    .ownedDevice('a', { hasInactiveTable: true });
  t.deepEqual(kinds(planDevice('a', world.build()).operations), ['clearInactive', 'remove']);
});

test('a device whose status cannot be read is refused alone; its neighbours plan as usual', (t) => {
  const world = new FakeObservation()
    .spec('a')
    .ownedDevice('a', { remap: undefined, unreadable: 'status: expected key=value, got "garbage"' })
    .spec('b')
    .build();
  const [operation] = planDevice('a', world).operations;
  t.like(operation, { kind: 'refuse', code: 'statusUnreadable' });
  t.regex(operation?.reason ?? '', /garbage/);
  t.deepEqual(kinds(planDevice('b', world).operations), ['create']);
});

test('a device whose status cannot be read is still resumed when left suspended', (t) => {
  const world = new FakeObservation()
    .spec('a')
    .ownedDevice('a', { suspended: true, remap: undefined, unreadable: 'bad status' })
    .build();
  t.deepEqual(kinds(planDevice('a', world).operations), ['resume', 'refuse']);
});
