/**
 * Spec inputs shared by the spec, CLI and controller tests: a normalized
 * DeviceSpec builder, RemapDevice YAML text, and spec files in a temporary
 * directory that ava removes after the test.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import type { DeviceSpec } from '../../reconciler/spec/index.js';

/** A valid, normalized spec with every default; a test overrides only what it is about. */
export function deviceSpec(name: string, overrides: Partial<DeviceSpec> = {}): DeviceSpec {
  return {
    name,
    mainDevice: `/dev/disk/by-id/${name}-main`,
    spareDevice: `/dev/disk/by-id/${name}-spare`,
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
    source: { file: `/etc/dm-remap.d/${name}.yaml`, line: 1, column: 1 },
    ...overrides,
  };
}

/**
 * A RemapDevice document: `extra` is inserted as is after metadata.name, and
 * each of `specLines` is indented under spec. Without `extra`, name is on
 * line 4 and the first spec line on line 6.
 */
export function manifest(name: string, specLines: string[], extra = ''): string {
  return [
    'apiVersion: dm-remap/v1alpha1',
    'kind: RemapDevice',
    'metadata:',
    `  name: ${name}`,
    ...(extra ? [extra] : []),
    'spec:',
    ...specLines.map((line) => `  ${line}`),
    '',
  ].join('\n');
}

/** A valid document with mainDevice on line 6 (column 15) and spareDevice on line 7 (column 16). */
export function specYaml(
  name: string,
  main = `/dev/disk/by-id/main-${name}`,
  spare = `/dev/disk/by-id/spare-${name}`,
): string {
  return manifest(name, [`mainDevice: ${main}`, `spareDevice: ${spare}`]);
}

/** Config directory entries that are never read as specs: hidden files and editor or package leftovers. */
export const LEFTOVER_NAMES: readonly string[] = [
  '.hidden.yaml',
  'data.yaml~',
  '.data.yaml.swp',
  'data.yaml.swo',
  '#data.yaml#',
  'data.yaml.dpkg-dist',
  'data.yaml.dpkg-old',
  'data.yaml.dpkg-new',
  'data.yaml.dpkg-tmp',
  'data.yaml.rpmnew',
  'data.yaml.rpmsave',
  'data.yaml.ucf-dist',
  'README',
  'example.yaml.disabled',
];

/** A temporary directory removed when the test ends. */
export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dm-remap-test-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `dir/name` with `mode` (root-only writable by default) and returns its path. */
export async function writeFile(
  dir: string,
  name: string,
  text: string | Buffer,
  mode = 0o644,
): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, text);
  await fs.chmod(file, mode);
  return file;
}
