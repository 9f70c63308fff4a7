/**
 * Proves the hand-written RemapDeviceManifest type and the JSON Schema agree.
 * `structure` restates the schema's validation keywords; `satisfies
 * JSONSchemaType<RemapDeviceManifest>` makes tsc reject it when it disagrees
 * with the type (a field added, renamed, retyped, or made optional: ajv's type
 * demands `nullable: true` exactly on optional fields), and the test makes ava
 * reject it when it disagrees with schemas/remapdevice.schema.json.
 */
import { readFile } from 'node:fs/promises';
import test from 'ava';
import type { JSONSchemaType } from 'ajv';
import schemaJson from '../../schemas/remapdevice.schema.json' with { type: 'json' };
import { SPEC_DEFAULTS } from '../../reconciler/spec/schema.js';
import { DiagnosticCode } from '../../reconciler/spec/index.js';
import type { RemapDeviceManifest } from '../../reconciler/spec/index.js';

const stringMap = {
  type: 'object',
  additionalProperties: { type: 'string' },
  required: [],
  nullable: true,
} as const;

const absolutePath = {
  type: 'string',
  pattern: '^/[^\\u0000-\\u001f\\u007f-\\u009f]*[^/\\u0000-\\u001f\\u007f-\\u009f]$',
} as const;

const structure = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { type: 'string', const: 'dm-remap/v1alpha1' },
    kind: { type: 'string', const: 'RemapDevice' },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: {
          type: 'string',
          minLength: 1,
          maxLength: 120,
          pattern: '^(?!-)(?!\\.\\.?$)(?!control$)[A-Za-z0-9+_.-]+$',
        },
        labels: stringMap,
        annotations: stringMap,
      },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['mainDevice', 'spareDevice'],
      properties: {
        mainDevice: absolutePath,
        spareDevice: absolutePath,
        blockSize: {
          type: 'integer',
          enum: [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536],
          nullable: true,
        },
        readRetries: { type: 'integer', minimum: 0, maximum: 16, nullable: true },
        spareUsageWarningPercent: { type: 'integer', minimum: 1, maximum: 100, nullable: true },
        remapRateWarningPerDay: { type: 'integer', minimum: 1, maximum: 1_000_000, nullable: true },
        state: { type: 'string', enum: ['active', 'absent'], nullable: true },
        paused: { type: 'boolean', nullable: true },
        removalPolicy: { type: 'string', enum: ['Retain', 'Delete'], nullable: true },
        deviceTimeout: { type: 'string', pattern: '^[1-9][0-9]{0,5}(s|m|h)$', nullable: true },
        nofail: { type: 'boolean', nullable: true },
      },
    },
  },
} satisfies JSONSchemaType<RemapDeviceManifest>;

/** Keywords that only help people (docs, editor hints, our message wording), plus ajv's nullable marker. */
const ANNOTATIONS = new Set([
  '$schema',
  'title',
  'description',
  'default',
  'examples',
  'x-expected',
  'nullable',
]);

/** `node` with every entry that `drop` picks removed, at any depth. */
function without(node: unknown, drop: (key: string, value: unknown) => boolean): unknown {
  if (Array.isArray(node)) return node.map((item) => without(item, drop));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !drop(key, value))
      .map(([key, value]) => [key, without(value, drop)]),
  );
}

const isAnnotation = (key: string): boolean => ANNOTATIONS.has(key);

/** Records in the TS type get `required: []` from ajv's typing; the schema leaves it out. */
const isEmptyRequired = (key: string, value: unknown): boolean =>
  key === 'required' && Array.isArray(value) && value.length === 0;

test('the JSON Schema has exactly the structure the TypeScript type is checked against', (t) => {
  t.deepEqual(without(schemaJson, isAnnotation), without(without(structure, isAnnotation), isEmptyRequired));
});

test('every field of the schema carries a description for editors', (t) => {
  const undocumented: string[] = [];
  const walk = (node: Record<string, unknown>, where: string): void => {
    if (typeof node['description'] !== 'string') undocumented.push(where || '(root)');
    const properties = (node['properties'] ?? {}) as Record<string, Record<string, unknown>>;
    for (const [key, child] of Object.entries(properties)) walk(child, where ? `${where}.${key}` : key);
  };
  walk(schemaJson, '');
  t.deepEqual(undocumented, []);
});

test('the defaults applied to specs are the documented ones, read from the schema', (t) => {
  t.deepEqual(SPEC_DEFAULTS, {
    blockSize: 4096,
    readRetries: 3,
    spareUsageWarningPercent: 80,
    state: 'active',
    paused: false,
    removalPolicy: 'Retain',
    deviceTimeout: '90s',
    nofail: false,
  });
});

test('the spec reference documents every field and every diagnostic code', async (t) => {
  const reference = await readFile('schemas/README.md', 'utf8');
  const fields = [
    // metadata and spec are sections: their fields are listed instead.
    ...Object.entries(schemaJson.properties)
      .filter(([, field]) => !('properties' in field))
      .map(([key]) => key),
    ...Object.keys(schemaJson.properties.metadata.properties).map((key) => `metadata.${key}`),
    ...Object.keys(schemaJson.properties.spec.properties).map((key) => `spec.${key}`),
  ];
  t.deepEqual(
    fields.filter((field) => !reference.includes(`| \`${field}\` |`)),
    [],
  );
  t.deepEqual(
    Object.values(DiagnosticCode).filter((code) => !reference.includes(`| \`${code}\` |`)),
    [],
  );
});
