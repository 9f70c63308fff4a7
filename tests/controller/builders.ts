/**
 * Builders for the pure planner's input: a world of specs, spec files, last
 * good specs, backing block devices and kernel devices, each defaulting to a
 * healthy, converged device so a test states only what it is about.
 */
import type {
  BlockDeviceInfo,
  KernelObservation,
  ObservedDevice,
  RemapStatus,
  SpareMetadata,
} from '../../reconciler/kernel/adapter.js';
import { mainIdOf } from '../../reconciler/kernel/disk-identity.js';
import { OWNED_UUID_PREFIX } from '../../reconciler/kernel/adapter.js';
import type { DeviceSpec, FileResult } from '../../reconciler/spec/index.js';
import type { PlanInput } from '../../reconciler/controller/plan.js';
import type { AppliedDeviceRecord, AppliedRead } from '../../reconciler/controller/appliedState.js';
import { deviceSpec } from '../helpers/specs.js';

export { deviceSpec };

export const MAIN_SECTORS = 2_097_152;

/** The identity the builder gives the main disk of spec `name` (a by-id disk has one). */
export function mainIdentityOf(name: string): string {
  return `disk-${name}-main`;
}

export function remapStatus(overrides: Partial<RemapStatus> = {}): RemapStatus {
  return {
    health: 'ok',
    remappedBlocks: 0,
    pendingBlocks: 0,
    spareBlocksUsed: 0,
    spareBlocksTotal: 1024,
    readErrors: 0,
    writeErrors: 0,
    remapFailures: 0,
    metadataSequence: 1,
    extra: {},
    ...overrides,
  };
}

export class FakeObservation {
  private readonly specs: DeviceSpec[] = [];
  private readonly files: FileResult[] = [];
  private readonly lastGood = new Map<string, DeviceSpec>();
  private readonly devices: ObservedDevice[] = [];
  private readonly blockDevices = new Map<string, BlockDeviceInfo | undefined>();
  private readonly spareMetadata = new Map<string, SpareMetadata>();
  private readonly applied = new Map<string, AppliedRead>();
  private moduleLoaded = true;
  private prune = false;
  private nextMinor = 16;

  /**
   * Declare a valid spec, its file, and its backing devices (also recorded as
   * last good): a main disk with an identity (mainIdentityOf) and a blank spare.
   */
  spec(name: string, overrides: Partial<DeviceSpec> = {}): this {
    const spec = deviceSpec(name, overrides);
    this.specs.push(spec);
    this.files.push({ file: spec.source.file, status: 'valid', devices: [name] });
    this.lastGood.set(name, spec);
    this.blockDevice(spec.mainDevice, MAIN_SECTORS, mainIdentityOf(name));
    this.blockDevice(spec.spareDevice, MAIN_SECTORS / 8);
    if (!this.spareMetadata.has(spec.spareDevice))
      this.spareMetadata.set(spec.spareDevice, { state: 'blank' });
    return this;
  }

  /**
   * The applied-state record of `name`: it last ran on `spec` (default: its
   * current or last good spec) with `remappedBlocks` remaps on that spare.
   */
  appliedRecord(name: string, fields: Partial<AppliedDeviceRecord> = {}): this {
    const spec = this.specs.find((s) => s.name === name) ?? this.lastGood.get(name) ?? deviceSpec(name);
    const record: AppliedDeviceRecord = {
      version: 1,
      name,
      spec,
      spare: {
        path: spec.spareDevice,
        majorMinor: this.blockDevices.get(spec.spareDevice)?.majorMinor ?? '8:251',
      },
      blockSizeBytes: spec.blockSizeBytes,
      remappedBlocks: 0,
      pendingBlocks: 0,
      statusUnknown: false,
      recordedAt: '2026-12-01T00:00:00.000Z',
      ...fields,
    };
    this.applied.set(name, { state: 'ok', record });
    return this;
  }

  /** An applied-state file of `name` that could not be read. */
  corruptAppliedRecord(name: string, reason = 'not JSON'): this {
    this.applied.set(name, { state: 'corrupt', file: `/var/lib/dm-remap/devices/${name}.json`, reason });
    return this;
  }

  /** What the superblocks of the spare at `path` say. */
  spare(path: string, metadata: SpareMetadata): this {
    this.spareMetadata.set(path, metadata);
    return this;
  }

  /** A spec that was valid once (last good) but whose file is now gone. */
  deletedSpec(name: string, overrides: Partial<DeviceSpec> = {}): this {
    const spec = deviceSpec(name, overrides);
    this.lastGood.set(name, spec);
    this.blockDevice(spec.mainDevice, MAIN_SECTORS);
    this.blockDevice(spec.spareDevice, MAIN_SECTORS / 8);
    return this;
  }

  /** A spec that was valid once and whose file is now invalid, declaring `devices` as far as could be read. */
  brokenSpec(name: string, declaredNames: string[] = [name]): this {
    this.deletedSpec(name);
    const file = deviceSpec(name).source.file;
    this.files.push({ file, status: 'invalid', devices: declaredNames });
    return this;
  }

  invalidFile(file: string, declaredNames: string[]): this {
    this.files.push({ file, status: 'invalid', devices: declaredNames });
    return this;
  }

  /** A block device at `path`, with the stable identity `identity` (none when omitted). */
  blockDevice(path: string, sizeSectors: number, identity?: string): this {
    if (!this.blockDevices.get(path)) {
      const info: BlockDeviceInfo = { path, majorMinor: `8:${this.nextMinor}`, sizeSectors };
      if (identity !== undefined) {
        info.identity = {
          source: `/sys/dev/block/${info.majorMinor}/device/wwid`,
          value: identity,
          mainId: mainIdOf(identity),
        };
      }
      this.blockDevices.set(path, info);
      this.nextMinor += 16;
    }
    return this;
  }

  missingBlockDevice(path: string): this {
    this.blockDevices.set(path, undefined);
    return this;
  }

  /** An owned kernel device whose live table matches the spec `name` had (current or last good) unless overridden. */
  ownedDevice(
    name: string,
    overrides: Partial<ObservedDevice> = {},
    status: Partial<RemapStatus> = {},
  ): this {
    const spec = this.specs.find((s) => s.name === name) ?? this.lastGood.get(name) ?? deviceSpec(name);
    const main = this.blockDevices.get(spec.mainDevice);
    const spare = this.blockDevices.get(spec.spareDevice);
    const mainDevice = main?.majorMinor ?? '8:250';
    const spareDevice = spare?.majorMinor ?? '8:251';
    const length = main?.sizeSectors ?? MAIN_SECTORS;
    const blockSizeSectors = spec.blockSizeBytes / 512;
    const args = `${mainDevice} ${spareDevice} 4 block_size ${blockSizeSectors} read_retries ${spec.readRetries}`;
    this.devices.push({
      name,
      uuid: `${OWNED_UUID_PREFIX}${name}`,
      owned: true,
      major: 253,
      minor: this.devices.length,
      suspended: false,
      hasInactiveTable: false,
      hasLiveTable: true,
      openCount: 0,
      table: [{ startSector: 0, lengthSectors: length, targetType: 'remap', args }],
      remap: {
        table: {
          startSector: 0,
          lengthSectors: length,
          mainDevice,
          spareDevice,
          blockSizeSectors,
          readRetries: spec.readRetries,
        },
        status: remapStatus(status),
      },
      ...overrides,
    });
    return this;
  }

  /** An owned device left by a create interrupted before its first resume. */
  halfCreatedDevice(name: string, hasInactiveTable: boolean): this {
    return this.ownedDevice(name, {
      suspended: true,
      hasInactiveTable,
      hasLiveTable: false,
      table: [],
      remap: undefined,
    });
  }

  foreignDevice(name: string, uuid = 'LVM-abc'): this {
    this.devices.push({
      name,
      uuid,
      owned: false,
      major: 253,
      minor: this.devices.length,
      suspended: false,
      hasInactiveTable: false,
      hasLiveTable: true,
      openCount: 1,
      table: [{ startSector: 0, lengthSectors: 2048, targetType: 'linear', args: '8:1 0' }],
    });
    return this;
  }

  withoutModule(): this {
    this.moduleLoaded = false;
    return this;
  }

  pruning(): this {
    this.prune = true;
    return this;
  }

  /** The planner's input; maps stay mutable so a test can adjust one detail after building. */
  build(): PlanInput & {
    blockDevices: Map<string, BlockDeviceInfo | undefined>;
    spareMetadata: Map<string, SpareMetadata>;
    applied: Map<string, AppliedRead>;
  } {
    const observation: KernelObservation = { moduleLoaded: this.moduleLoaded, devices: [...this.devices] };
    return {
      specs: [...this.specs],
      files: [...this.files],
      lastGood: new Map(this.lastGood),
      observation,
      blockDevices: new Map(this.blockDevices),
      spareMetadata: new Map(this.spareMetadata),
      applied: new Map(this.applied),
      options: { prune: this.prune },
    };
  }
}
