/** The pure single-file validator: good documents normalize, each layer reports at the right place. */
import test from 'ava';
import fc from 'fast-check';
import { validateText } from '../../reconciler/spec/index.js';
import { manifest } from '../helpers/specs.js';

const FILE = 'devices/data.yaml';

const STABLE = ['mainDevice: /dev/disk/by-id/ata-MAIN', 'spareDevice: /dev/disk/by-id/nvme-SPARE-part1'];

test('a minimal document yields a DeviceSpec with every default applied', (t) => {
  const result = validateText(FILE, `# header comment\n${manifest('data0', STABLE)}`);
  t.deepEqual(result.diagnostics, []);
  t.deepEqual(result.declaredNames, ['data0']);
  t.deepEqual(
    result.documents.map((d) => d.spec),
    [
      {
        name: 'data0',
        mainDevice: '/dev/disk/by-id/ata-MAIN',
        spareDevice: '/dev/disk/by-id/nvme-SPARE-part1',
        blockSizeBytes: 4096,
        readRetries: 3,
        spareUsageWarningPercent: 80,
        state: 'active',
        paused: false,
        removalPolicy: 'Retain',
        deviceTimeoutMs: 90_000,
        nofail: false,
        labels: {},
        annotations: {},
        source: { file: FILE, line: 2, column: 1 },
      },
    ],
  );
});

test('explicit values are carried over, blockSize as blockSizeBytes', (t) => {
  const text = manifest(
    'data1',
    [
      ...STABLE,
      'blockSize: 512',
      'readRetries: 0',
      'spareUsageWarningPercent: 100',
      'remapRateWarningPerDay: 50',
      'state: absent',
      'paused: true',
      'removalPolicy: Delete',
      'deviceTimeout: 5m',
      'nofail: true',
    ],
    '  labels: {tier: cold}\n  annotations: {owner: ops}',
  );
  const [document] = validateText(FILE, text).documents;
  t.like(document?.spec, {
    blockSizeBytes: 512,
    readRetries: 0,
    spareUsageWarningPercent: 100,
    remapRateWarningPerDay: 50,
    state: 'absent',
    paused: true,
    removalPolicy: 'Delete',
    deviceTimeoutMs: 300_000,
    nofail: true,
    labels: { tier: 'cold' },
    annotations: { owner: 'ops' },
  });
});

test('several documents: each keeps its own start and field positions', (t) => {
  const second = manifest('b', ['mainDevice: /dev/disk/by-id/m2', 'spareDevice: /dev/disk/by-id/s2']);
  const result = validateText(FILE, `${manifest('a', STABLE)}---\n${second}`);
  t.deepEqual(result.diagnostics, []);
  t.deepEqual(
    result.documents.map((d) => [d.spec.name, d.spec.source.line, d.at.name, d.at.spareDevice]),
    [
      ['a', 1, { line: 4, column: 9 }, { line: 7, column: 16 }],
      ['b', 9, { line: 12, column: 9 }, { line: 15, column: 16 }],
    ],
  );
});

test('one bad document does not hide the good one, and both names are declared', (t) => {
  const bad = manifest('broken', ['mainDevice: /dev/disk/by-id/m2']);
  const result = validateText(FILE, `${manifest('good', STABLE)}---\n${bad}`);
  t.deepEqual(
    result.documents.map((d) => d.spec.name),
    ['good'],
  );
  t.deepEqual(result.declaredNames, ['good', 'broken']);
  t.deepEqual(
    result.diagnostics.map((d) => [d.line, d.column, d.code, d.message, d.device]),
    [[13, 1, 'missing-field', 'missing required field spec.spareDevice', 'broken']],
  );
});

test('kernel probe-order paths are accepted with a warning at the value', (t) => {
  const result = validateText(
    FILE,
    manifest('data0', ['mainDevice: /dev/sdb', 'spareDevice: /dev/nvme0n1p3']),
  );
  t.is(result.documents.length, 1);
  t.deepEqual(
    result.diagnostics.map((d) => [d.severity, d.code, d.line, d.column, d.message]),
    [
      [
        'warning',
        'unstable-device-path',
        6,
        15,
        'spec.mainDevice /dev/sdb is a kernel name that can point at another disk after a reboot; ' +
          'use a stable link such as /dev/disk/by-id/...',
      ],
      [
        'warning',
        'unstable-device-path',
        7,
        16,
        'spec.spareDevice /dev/nvme0n1p3 is a kernel name that can point at another disk after a reboot; ' +
          'use a stable link such as /dev/disk/by-id/...',
      ],
    ],
  );
});

test('a name of exactly 120 bytes is accepted, 121 is refused', (t) => {
  t.deepEqual(validateText(FILE, manifest('n'.repeat(120), STABLE)).diagnostics, []);
  const [diagnostic] = validateText(FILE, manifest('n'.repeat(121), STABLE)).diagnostics;
  t.is(diagnostic?.code, 'invalid-name');
  t.deepEqual([diagnostic?.line, diagnostic?.column], [4, 9]);
});

test('flow nesting far beyond the limit is refused before the parser recurses', (t) => {
  const text = `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
  const result = validateText(FILE, text);
  t.deepEqual(
    result.diagnostics.map((d) => [d.code, d.line, d.column]),
    [['nesting-too-deep', 1, 36]],
  );
});

test('a label whose value is a list is refused at the value', (t) => {
  const result = validateText(FILE, manifest('data0', STABLE, '  labels:\n    tier: [a]'));
  t.deepEqual(
    result.diagnostics.map((d) => [d.code, d.line, d.column, d.message]),
    [['wrong-type', 6, 11, 'metadata.labels.tier must be a string, got a list']],
  );
});

test('whatever the text, validation never throws and every diagnostic is positioned', (t) => {
  const yamlish = fc.stringMatching(/^[a-zA-Z0-9 :\-[\]{}&*!|>'"#\n\t,.?]{0,120}$/);
  fc.assert(
    fc.property(fc.oneof(fc.string(), yamlish), (text) => {
      const result = validateText(FILE, text);
      for (const d of result.diagnostics) {
        if (!(Number.isInteger(d.line) && d.line! >= 1 && Number.isInteger(d.column) && d.column! >= 1)) {
          return false;
        }
      }
      return result.documents.length > 0 || result.diagnostics.some((d) => d.severity === 'error');
    }),
    { numRuns: 400 },
  );
  t.pass();
});

test('names of documents refused for YAML problems are still declared, so their devices can be held', (t) => {
  const text = [
    'apiVersion: dm-remap/v1alpha1',
    'kind: RemapDevice',
    'metadata:',
    '  name: unclosed',
    'spec: {mainDevice: /dev/disk/by-id/m',
    '---',
    'metadata: {name: twice, name: again}',
    '---',
    '- not a map',
    '',
  ].join('\n');
  const result = validateText(FILE, text);
  t.deepEqual(result.documents, []);
  t.deepEqual(result.declaredNames, ['unclosed', 'twice']);
  t.deepEqual(
    result.diagnostics.map((d) => [d.code, d.line]),
    [
      ['yaml-syntax', 6],
      ['duplicate-key', 7],
      ['wrong-type', 9],
    ],
  );
});

test('an alias whose anchor comes first in its document is expanded, not refused', (t) => {
  const text = manifest(
    'data0',
    ['mainDevice: /dev/disk/by-id/ata-MAIN', 'spareDevice: /dev/disk/by-id/nvme-SPARE-part1'],
    '  labels: {disk: &disk ata-MAIN}\n  annotations: {disk: *disk}',
  );
  const result = validateText(FILE, text);
  t.deepEqual(result.diagnostics, []);
  t.deepEqual(result.documents[0]?.spec.annotations, { disk: 'ata-MAIN' });
});
