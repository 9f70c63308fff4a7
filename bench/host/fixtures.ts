/**
 * Spec fixtures for the host figures: a config dir of N one-device spec files
 * and a simulated kernel (`--kernel sim:FILE`) holding each device's main and
 * spare disk. Written once under .cache/bench/ and reused; a run copies the
 * kernel file, since the daemon writes back into it.
 */
import fs from 'node:fs';
import path from 'node:path';

const MAIN_SECTORS = 65_536;
const SPARE_SECTORS = 8_192;

export function deviceName(index: number): string {
  return `bench${String(index).padStart(5, '0')}`;
}

/** A spec as an operator writes it; `readRetries` is the field the edit figure changes (it is in the table). */
export function specText(name: string, readRetries = 3): string {
  return [
    'apiVersion: dm-remap/v1alpha1',
    'kind: RemapDevice',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  mainDevice: /dev/disk/by-id/${name}-main`,
    `  spareDevice: /dev/disk/by-id/${name}-spare`,
    `  readRetries: ${readRetries}`,
    '',
  ].join('\n');
}

/** The simulated kernel's file: the module loaded, every backing disk present, no device yet. */
export function kernelText(count: number): string {
  const blockDevices = [];
  for (let index = 0; index < count; index += 1) {
    const name = deviceName(index);
    // Distinct major:minor pairs, as sd* disks get them (16 minors each).
    const major = 8 + Math.floor(index / 4096) * 2;
    const minor = (index % 4096) * 32;
    blockDevices.push(
      {
        path: `/dev/disk/by-id/${name}-main`,
        sizeSectors: MAIN_SECTORS,
        major,
        minor,
        identity: `disk-${name}-main`,
      },
      { path: `/dev/disk/by-id/${name}-spare`, sizeSectors: SPARE_SECTORS, major, minor: minor + 16 },
    );
  }
  return JSON.stringify({ moduleLoaded: true, blockDevices, devices: [] }, null, 2) + '\n';
}

export interface SpecFixture {
  configDir: string;
  /** The kernel with no device created yet; copy it before a command writes to it. */
  blankKernel: string;
  count: number;
}

/** `root/specs-N/` (N spec files) and `root/kernel-N.json`, made unless already complete. */
export function specFixture(root: string, count: number, withKernel = true): SpecFixture {
  const configDir = path.join(root, `specs-${count}`);
  const blankKernel = path.join(root, `kernel-${count}.json`);
  const complete = path.join(root, `.specs-${count}.complete`);
  if (!fs.existsSync(complete)) {
    fs.rmSync(configDir, { recursive: true, force: true });
    fs.mkdirSync(configDir, { recursive: true, mode: 0o755 });
    for (let index = 0; index < count; index += 1) {
      const name = deviceName(index);
      fs.writeFileSync(path.join(configDir, `${name}.yaml`), specText(name), { mode: 0o644 });
    }
    fs.writeFileSync(complete, '');
  }
  if (withKernel && !fs.existsSync(blankKernel)) fs.writeFileSync(blankKernel, kernelText(count));
  return { configDir, blankKernel, count };
}
