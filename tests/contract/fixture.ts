/**
 * What the contract cases need from the world around an adapter. One fixture
 * wraps the SimulatedKernel, another the real kernel in the guest (loop
 * devices, dmsetup run directly for foreign devices, a helper process holding
 * a device open).
 */
import type { BlockDeviceInfo, KernelAdapter } from '../../reconciler/kernel/adapter.js';

export interface ContractFixture {
  readonly kernel: KernelAdapter;
  /**
   * Whether the `remap` target can be used. When it cannot (the module is not
   * built yet), cases use `linear` tables for the generic device-mapper
   * semantics and skip the remap-specific ones.
   */
  readonly remapAvailable: boolean;
  /** A fresh backing block device of `sizeSectors` sectors. */
  blockDevice(sizeSectors: number): Promise<BlockDeviceInfo>;
  /** Write `bytes` at byte `offset` of a block device from blockDevice() (within its first 8 KiB), durably. */
  writeBlockDevice(device: BlockDeviceInfo, offset: number, bytes: Uint8Array): Promise<void>;
  /** Hold `/dev/mapper/NAME` open until the returned function is called. */
  holdOpen(name: string): Promise<() => Promise<void>>;
  /** Create a device behind the adapter's back, as another tool would. */
  createForeign(name: string, uuid: string, table: string): Promise<void>;
  /** Create a device with no table (`dmsetup create --notable`), then optionally load (never resume). */
  createHalfDone(name: string, uuid: string, inactiveTable?: string): Promise<void>;
  /**
   * From now on, observations show `printed` as the status of the remap device `name`: what a
   * module printing something this reconciler cannot parse looks like.
   */
  garbleStatus(name: string, printed: string): void;
  /** Processes run so far for one dmsetup subcommand (or 'modprobe'); a coalesced batch counts once. */
  processCount(command: 'create' | 'remove' | 'modprobe'): number;
  /** A device name unique to this run, so cases never collide with each other or leftovers. */
  uniqueName(stem: string): string;
  /** Remove every device the fixture or the cases created (owned or foreign) and release block devices. */
  cleanup(): Promise<void>;
}

export interface ContractCase {
  name: string;
  /** Needs the real `remap` target (skipped when the fixture has only the linear fallback). */
  needsRemap?: boolean;
  /** Throws (node:assert) on a contract violation. */
  run(fixture: ContractFixture): Promise<void>;
}
