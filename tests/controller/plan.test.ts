import test from 'ava';
import { plan, planDevice } from '../../reconciler/controller/plan.js';
import type { Operation } from '../../reconciler/controller/plan.js';
import { FakeObservation, MAIN_SECTORS } from './builders.js';

const kinds = (operations: Operation[]) => operations.map((operation) => operation.kind);

test('a device whose live table matches its spec needs nothing', (t) => {
  const result = plan(new FakeObservation().spec('a').ownedDevice('a').build());
  t.deepEqual(result.devices, [{ name: 'a', operations: [], present: true, declared: true }]);
  t.false(result.hasChanges);
});

test('a declared device missing from the kernel is created with the full table and an owned uuid', (t) => {
  const result = planDevice('a', new FakeObservation().spec('a').build());
  t.deepEqual(result.operations, [
    {
      kind: 'create',
      reason: 'declared but not present in the kernel',
      table: {
        name: 'a',
        uuid: 'DMREMAP-a',
        table: `0 ${MAIN_SECTORS} remap /dev/disk/by-id/a-main /dev/disk/by-id/a-spare 6 block_size 8 read_retries 3 main_id disk-a-main`,
      },
    },
  ]);
  t.false(result.present);
});

test('block size and retries in the table follow the spec', (t) => {
  const [create] = planDevice(
    'a',
    new FakeObservation().spec('a', { blockSizeBytes: 65536, readRetries: 0 }).build(),
  ).operations;
  t.is(create?.kind, 'create');
  t.true(
    create !== undefined &&
      'table' in create &&
      create.table.table.endsWith('6 block_size 128 read_retries 0 main_id disk-a-main'),
  );
});

test('the module is loaded before a create when it is missing', (t) => {
  const result = planDevice('a', new FakeObservation().spec('a').withoutModule().build());
  t.deepEqual(kinds(result.operations), ['loadModule', 'create']);
});

test('a half-created device with only an inactive table is completed', (t) => {
  const result = planDevice('a', new FakeObservation().spec('a').halfCreatedDevice('a', true).build());
  t.deepEqual(kinds(result.operations), ['completeCreate']);
  t.regex(result.operations[0]?.reason ?? '', /inactive table only/);
});

test('a half-created device with no table at all is completed', (t) => {
  const result = planDevice('a', new FakeObservation().spec('a').halfCreatedDevice('a', false).build());
  t.deepEqual(kinds(result.operations), ['completeCreate']);
  t.regex(result.operations[0]?.reason ?? '', /no table/);
});

test('a half-created device that is no longer wanted is rolled back', (t) => {
  const input = new FakeObservation().spec('a', { state: 'absent' }).halfCreatedDevice('a', true).build();
  t.deepEqual(kinds(planDevice('a', input).operations), ['rollbackCreate']);
});

test('a device left suspended is resumed', (t) => {
  const result = planDevice(
    'a',
    new FakeObservation().spec('a').ownedDevice('a', { suspended: true }).build(),
  );
  t.deepEqual(kinds(result.operations), ['resume']);
});

test('an interrupted reload is undone: inactive table dropped, then resumed', (t) => {
  const input = new FakeObservation()
    .spec('a')
    .ownedDevice('a', { suspended: true, hasInactiveTable: true })
    .build();
  t.deepEqual(kinds(planDevice('a', input).operations), ['clearInactive', 'resume']);
});

test('a stale inactive table on a running device is dropped', (t) => {
  const input = new FakeObservation().spec('a').ownedDevice('a', { hasInactiveTable: true }).build();
  t.deepEqual(kinds(planDevice('a', input).operations), ['clearInactive']);
});

test('a changed read_retries is reloaded', (t) => {
  const input = new FakeObservation().spec('a', { readRetries: 5 }).build();
  const world = new FakeObservation().spec('a').ownedDevice('a').build();
  const result = planDevice('a', { ...world, specs: input.specs, blockDevices: world.blockDevices });
  t.deepEqual(kinds(result.operations), ['reload']);
  t.like(result.operations[0], { kind: 'reload', changes: ['readRetries'] });
});

test('a live table with kernel defaults omitted still matches a spec asking for the defaults', (t) => {
  const world = new FakeObservation().spec('a').ownedDevice('a').build();
  const device = world.observation.devices[0];
  if (!device?.remap) return t.fail('builder made no remap device');
  device.remap.table.blockSizeSectors = 0;
  t.deepEqual(planDevice('a', world).operations, []);
});

function withSpareSwapped(remappedBlocks: number, pendingBlocks = 0) {
  const world = new FakeObservation()
    .spec('a')
    .ownedDevice('a', {}, { remappedBlocks, pendingBlocks })
    .build();
  const spec = world.specs[0];
  if (!spec) throw new Error('builder made no spec');
  const newSpare = '/dev/disk/by-id/new-spare';
  world.blockDevices.set(newSpare, { path: newSpare, majorMinor: '9:9', sizeSectors: 4096 });
  return { ...world, specs: [{ ...spec, spareDevice: newSpare }] };
}

test('a new spare is accepted while the old spare holds nothing', (t) => {
  t.like(planDevice('a', withSpareSwapped(0)).operations[0], { kind: 'reload', changes: ['spareDevice'] });
});

test('a new spare is refused while the old spare holds remapped blocks', (t) => {
  const [operation] = planDevice('a', withSpareSwapped(3)).operations;
  t.like(operation, { kind: 'refuse', code: 'wouldStrandData' });
  t.regex(operation?.reason ?? '', /3 remapped and 0 pending/);
});

test('a new spare is refused while blocks are pending', (t) => {
  t.like(planDevice('a', withSpareSwapped(0, 2)).operations[0], { kind: 'refuse', code: 'wouldStrandData' });
});

test('a new block size is refused while the spare holds data', (t) => {
  const world = new FakeObservation().spec('a').ownedDevice('a', {}, { remappedBlocks: 1 }).build();
  const specs = world.specs.map((spec) => ({ ...spec, blockSizeBytes: 8192 }));
  t.like(planDevice('a', { ...world, specs }).operations[0], { kind: 'refuse', code: 'wouldStrandData' });
});

test('a spare change is refused when the status could not be read', (t) => {
  const world = withSpareSwapped(0);
  const device = world.observation.devices[0];
  if (!device?.remap) return t.fail('builder made no remap device');
  world.observation.devices[0] = { ...device, remap: undefined };
  const [operation] = planDevice('a', world).operations;
  t.is(operation?.kind, 'refuse');
});

test('a change of main device is refused even with an empty spare', (t) => {
  const world = new FakeObservation().spec('a').ownedDevice('a').build();
  const newMain = '/dev/disk/by-id/other-main';
  world.blockDevices.set(newMain, { path: newMain, majorMinor: '7:7', sizeSectors: MAIN_SECTORS });
  const specs = world.specs.map((spec) => ({ ...spec, mainDevice: newMain }));
  t.like(planDevice('a', { ...world, specs }).operations[0], { kind: 'refuse', code: 'mainDeviceChanged' });
});

function withMainGrown() {
  const world = new FakeObservation().spec('a').ownedDevice('a').build();
  world.blockDevices.set('/dev/disk/by-id/a-main', {
    path: '/dev/disk/by-id/a-main',
    majorMinor: world.observation.devices[0]?.remap?.table.mainDevice ?? '',
    sizeSectors: MAIN_SECTORS * 2,
  });
  return world;
}

test('a grown main device is refused on the same spare: the spare is formatted for the old length', (t) => {
  const [operation] = planDevice('a', withMainGrown()).operations;
  t.like(operation, { kind: 'refuse', code: 'spareFormatted' });
  t.regex(operation?.reason ?? '', /changing length needs the spare formatted anew/);
});

test('a grown main device with a new blank spare is reloaded with the new length', (t) => {
  const world = withMainGrown();
  const newSpare = '/dev/disk/by-id/new-spare';
  world.blockDevices.set(newSpare, { path: newSpare, majorMinor: '9:9', sizeSectors: 4096 });
  const specs = world.specs.map((spec) => ({ ...spec, spareDevice: newSpare }));
  t.like(planDevice('a', { ...world, specs }).operations[0], {
    kind: 'reload',
    changes: ['length', 'spareDevice'],
  });
});

test('a new block size on the same spare is refused even while it holds nothing', (t) => {
  const world = new FakeObservation().spec('a').ownedDevice('a').build();
  const specs = world.specs.map((spec) => ({ ...spec, blockSizeBytes: 8192 }));
  t.like(planDevice('a', { ...world, specs }).operations[0], { kind: 'refuse', code: 'spareFormatted' });
});

test('an owned device whose table is not a remap target is refused, not rewritten', (t) => {
  const world = new FakeObservation()
    .spec('a')
    .ownedDevice('a', {
      remap: undefined,
      table: [{ startSector: 0, lengthSectors: 8, targetType: 'linear', args: '' }],
    })
    .build();
  t.like(planDevice('a', world).operations[0], { kind: 'refuse', code: 'unexpectedTable' });
});

test('a name held by a foreign device is refused', (t) => {
  const result = planDevice('a', new FakeObservation().spec('a').foreignDevice('a').build());
  t.like(result.operations[0], { kind: 'refuse', code: 'foreignName' });
  t.false(result.present);
});

test('foreign devices nobody declares are not part of the plan', (t) => {
  const result = plan(new FakeObservation().foreignDevice('vg-root').pruning().build());
  t.deepEqual(result.devices, []);
});

test('an invalid spec file holds its running device even when its live table drifted', (t) => {
  const world = new FakeObservation().brokenSpec('a').ownedDevice('a').build();
  const device = world.observation.devices[0];
  if (!device?.remap) return t.fail('builder made no remap device');
  device.remap.table.readRetries = 9;
  const result = planDevice('a', world);
  t.deepEqual(kinds(result.operations), ['hold']);
  t.true(result.declared);
});

test('an invalid spec file holds a device it names even when the kernel lacks it', (t) => {
  const world = new FakeObservation().invalidFile('/etc/dm-remap.d/new.yaml', ['fresh']).build();
  t.deepEqual(kinds(plan(world).devices.flatMap((device) => device.operations)), ['hold']);
});

test('a device whose last good spec came from a now-invalid file is held even if the file names nothing', (t) => {
  const world = new FakeObservation().brokenSpec('a', []).ownedDevice('a').pruning().build();
  t.deepEqual(kinds(planDevice('a', world).operations), ['hold']);
});

test('an unreadable invalid file holds undeclared running devices rather than pruning them', (t) => {
  const world = new FakeObservation()
    .ownedDevice('stray')
    .invalidFile('/etc/dm-remap.d/x.yaml', [])
    .pruning()
    .build();
  t.deepEqual(kinds(planDevice('stray', world).operations), ['hold']);
});

test('an unreadable invalid file does not hold devices declared by valid files', (t) => {
  const world = new FakeObservation().spec('a').invalidFile('/etc/dm-remap.d/x.yaml', []).build();
  t.deepEqual(kinds(planDevice('a', world).operations), ['create']);
});

test('a paused spec is skipped even when the device drifted', (t) => {
  const world = new FakeObservation()
    .spec('a', { paused: true })
    .ownedDevice('a', { suspended: true })
    .build();
  t.deepEqual(kinds(planDevice('a', world).operations), ['skip']);
});

test('state: absent removes the device', (t) => {
  const world = new FakeObservation().spec('a', { state: 'absent' }).ownedDevice('a').build();
  t.deepEqual(kinds(planDevice('a', world).operations), ['remove']);
});

test('state: absent on an open device is blocked with EBUSY', (t) => {
  const world = new FakeObservation()
    .spec('a', { state: 'absent' })
    .ownedDevice('a', { openCount: 2 })
    .build();
  t.like(planDevice('a', world).operations[0], { kind: 'blocked', code: 'EBUSY' });
});

test('state: absent with nothing in the kernel is already converged', (t) => {
  const result = planDevice('a', new FakeObservation().spec('a', { state: 'absent' }).build());
  t.deepEqual(result, { name: 'a', operations: [], present: false, declared: true });
});

test('a deleted spec with removalPolicy Retain leaves an orphan untouched', (t) => {
  const world = new FakeObservation().deletedSpec('a').ownedDevice('a').build();
  const result = planDevice('a', world);
  t.deepEqual(kinds(result.operations), ['orphan']);
  t.false(result.declared);
  t.false(plan(world).hasChanges);
});

test('an owned device never declared here is an orphan (Retain assumed)', (t) => {
  t.deepEqual(kinds(planDevice('x', new FakeObservation().ownedDevice('x').build()).operations), ['orphan']);
});

test('a deleted spec with removalPolicy Delete removes the device', (t) => {
  const world = new FakeObservation().deletedSpec('a', { removalPolicy: 'Delete' }).ownedDevice('a').build();
  t.deepEqual(kinds(planDevice('a', world).operations), ['remove']);
});

test('--prune removes an orphan', (t) => {
  const world = new FakeObservation().deletedSpec('a').ownedDevice('a').pruning().build();
  t.deepEqual(kinds(planDevice('a', world).operations), ['remove']);
});

test('--prune never removes an open orphan', (t) => {
  const world = new FakeObservation().deletedSpec('a').ownedDevice('a', { openCount: 1 }).pruning().build();
  t.deepEqual(kinds(planDevice('a', world).operations), ['blocked']);
});

test('a deleted spec whose device is gone needs nothing', (t) => {
  t.deepEqual(plan(new FakeObservation().deletedSpec('a', { removalPolicy: 'Delete' }).build()).devices, []);
});

test('a missing backing device makes the device wait instead of failing a create', (t) => {
  const world = new FakeObservation().spec('a').missingBlockDevice('/dev/disk/by-id/a-spare').build();
  const [operation] = planDevice('a', world).operations;
  t.like(operation, { kind: 'wait' });
  t.regex(operation?.reason ?? '', /spare device \/dev\/disk\/by-id\/a-spare/);
});

test('a suspended device is resumed even while its backing device is missing', (t) => {
  const world = new FakeObservation()
    .spec('a')
    .ownedDevice('a', { suspended: true })
    .missingBlockDevice('/dev/disk/by-id/a-main')
    .build();
  t.deepEqual(kinds(planDevice('a', world).operations), ['resume', 'wait']);
});

test('devices are planned in name order and independently', (t) => {
  const world = new FakeObservation()
    .spec('c')
    .spec('a')
    .ownedDevice('a')
    .foreignDevice('c')
    .spec('b')
    .build();
  const result = plan(world);
  t.deepEqual(
    result.devices.map((device) => [device.name, kinds(device.operations)]),
    [
      ['a', []],
      ['b', ['create']],
      ['c', ['refuse']],
    ],
  );
  t.true(result.hasChanges);
});

test('the table covers whole blocks only: a partial last block of the main device is left out', (t) => {
  const world = new FakeObservation().spec('a', { blockSizeBytes: 65536 }).build();
  world.blockDevices.set('/dev/disk/by-id/a-main', {
    path: '/dev/disk/by-id/a-main',
    majorMinor: '8:16',
    sizeSectors: 1000,
  });
  const [create] = planDevice('a', world).operations;
  t.true(create !== undefined && 'table' in create && create.table.table.startsWith('0 896 remap '));
});

/** A superblock as the spare of `mainId`'s device would hold it. */
function formattedFor(mainId: string) {
  return {
    state: 'formatted' as const,
    superblock: {
      version: 1,
      blockSectors: 8,
      mainSectors: MAIN_SECTORS,
      spareSectors: 4096,
      sequence: 1,
      mainId,
    },
  };
}

test('a spare formatted for another disk is refused before anything is done, even loading the module', (t) => {
  const world = new FakeObservation()
    .spec('a')
    .spare('/dev/disk/by-id/a-spare', formattedFor('disk-b-main'))
    .withoutModule()
    .build();
  const operations = planDevice('a', world).operations;
  t.deepEqual(kinds(operations), ['refuse']);
  t.like(operations[0], { code: 'spareOfAnotherMain' });
  t.regex(
    operations[0]?.reason ?? '',
    /belongs to the main disk "disk-b-main", but the main device .* is "disk-a-main"/,
  );
});

test('a spare formatted for this disk is reused with its main_id; a half-created device is completed alike', (t) => {
  for (const build of [
    (world: FakeObservation) => world,
    (world: FakeObservation) => world.halfCreatedDevice('a', true),
  ]) {
    const world = build(
      new FakeObservation().spec('a').spare('/dev/disk/by-id/a-spare', formattedFor('disk-a-main')),
    );
    const [operation] = planDevice('a', world.build()).operations;
    t.true(
      operation !== undefined &&
        'table' in operation &&
        operation.table.table.endsWith(' main_id disk-a-main'),
    );
    t.false(operation !== undefined && 'warning' in operation);
  }
});

test('a reload carries the live main_id, even if the main now shows another identity', (t) => {
  const world = new FakeObservation().spec('a').ownedDevice('a').build();
  world.specs = world.specs.map((spec) => ({ ...spec, readRetries: 5 }));
  const live = world.observation.devices[0]?.remap?.table;
  if (!live) return t.fail('builder made no remap device');
  live.mainId = 'recorded-at-format';
  const [operation] = planDevice('a', world).operations;
  t.like(operation, { kind: 'reload', changes: ['readRetries'] });
  t.true(
    operation !== undefined &&
      'table' in operation &&
      operation.table.table.endsWith(' main_id recorded-at-format'),
  );
});

test('a new spare on a live device is judged like the spare of a new device', (t) => {
  const refused = withSpareSwapped(0);
  refused.spareMetadata.set('/dev/disk/by-id/new-spare', formattedFor('disk-z-main'));
  t.like(planDevice('a', refused).operations[0], { kind: 'refuse', code: 'spareOfAnotherMain' });
  const blank = withSpareSwapped(0);
  blank.spareMetadata.set('/dev/disk/by-id/new-spare', { state: 'blank' });
  const [operation] = planDevice('a', blank).operations;
  t.like(operation, { kind: 'reload', changes: ['spareDevice'] });
  // A device created before main_id was passed gets protection on a new blank spare.
  t.true(
    operation !== undefined && 'table' in operation && operation.table.table.endsWith(' main_id disk-a-main'),
  );
});

test('a main without identity: created without main_id, and the operation says why', (t) => {
  const world = new FakeObservation().spec('a').build();
  world.blockDevices.set('/dev/disk/by-id/a-main', {
    path: '/dev/loop0',
    majorMinor: '7:0',
    sizeSectors: MAIN_SECTORS,
  });
  const [operation] = planDevice('a', world).operations;
  t.like(operation, { kind: 'create' });
  t.true(
    operation !== undefined &&
      'table' in operation &&
      operation.table.table.endsWith('4 block_size 8 read_retries 3'),
  );
  t.regex(
    operation !== undefined && 'warning' in operation ? (operation.warning ?? '') : '',
    /has no stable identity/,
  );
});
