/**
 * The last valid spec seen for each device. When a spec file turns invalid
 * (a typo, a half-written save) the planner holds its devices as they are; and
 * when a spec is deleted, its last removalPolicy still decides whether the
 * device is removed or left as an orphan. Entries of deleted specs are kept
 * until the device is gone from the kernel.
 */
import type { DeviceSpec } from '../spec/index.js';

export class LastGoodSpecs {
  private readonly specs = new Map<string, DeviceSpec>();

  /** Record every currently valid spec; specs no longer declared are kept for their removal policy. */
  record(valid: readonly DeviceSpec[]): void {
    for (const spec of valid) this.specs.set(spec.name, spec);
  }

  /** Drop a device that is neither declared nor present in the kernel any more. */
  forget(name: string): void {
    this.specs.delete(name);
  }

  get(name: string): DeviceSpec | undefined {
    return this.specs.get(name);
  }

  snapshot(): ReadonlyMap<string, DeviceSpec> {
    return new Map(this.specs);
  }
}
