/**
 * Randomized convergence (fast-check, fixed seed, bounded runs): random
 * sequences of spec edits (including invalid and deleted files), changes
 * made behind the reconciler's back (devices removed, tables changed, left
 * suspended, half-created, foreign devices added, spares filling up) and
 * crashes in the middle of kernel operations. After each sequence, one fresh
 * `apply` must converge: the plan is then free of actions, no foreign device
 * was touched, no device whose spec file is invalid had its table changed by
 * any apply (what a crash left — a suspend, an inactive table — is repaired
 * whatever the spec file says), and nothing managed is left suspended or
 * half-loaded unless its spec pauses it.
 */
import test from 'ava';
import fc from 'fast-check';
import { MemorySpecs, newController, newKernel, MAIN_SECTORS, SPARE_SECTORS } from './simWorld.js';
import { deviceSpec } from './builders.js';
import type { SimulatedKernel, SimulatedOperation, CrashStep } from '../../reconciler/kernel/simulated.js';
import type { ObservedDevice } from '../../reconciler/kernel/adapter.js';
import type { Controller } from '../../reconciler/controller/controller.js';

const NAMES = ['a', 'b', 'c'] as const;
type Name = (typeof NAMES)[number];
const ALTERNATE_SPARE = (name: string) => `/dev/disk/by-id/${name}-spare2`;

type Action =
  | {
      kind: 'setSpec';
      name: Name;
      readRetries: number;
      absent: boolean;
      policy: 'Retain' | 'Delete';
      paused: boolean;
      altSpare: boolean;
    }
  | { kind: 'breakFile'; name: Name; namesReadable: boolean }
  | { kind: 'deleteSpec'; name: Name }
  | { kind: 'removeOutOfBand'; name: Name }
  | { kind: 'changeTableOutOfBand'; name: Name; readRetries: number }
  | { kind: 'suspendOutOfBand'; name: Name }
  | { kind: 'halfCreate'; name: Name; withInactive: boolean }
  | { kind: 'addForeign'; name: string }
  | { kind: 'fillSpare'; name: Name; blocks: number }
  /** By the long-running controller (a daemon that remembers last good specs), or a fresh one with --prune. */
  | { kind: 'apply'; prune: boolean }
  | { kind: 'crashDuringApply'; operation: SimulatedOperation; step: CrashStep };

const name = fc.constantFrom(...NAMES);
/** true about one time in four. */
const rarely = fc.oneof(
  { weight: 3, arbitrary: fc.constant(false) },
  { weight: 1, arbitrary: fc.constant(true) },
);
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('setSpec' as const),
      name,
      readRetries: fc.integer({ min: 0, max: 4 }),
      absent: rarely,
      policy: fc.constantFrom('Retain' as const, 'Delete' as const),
      paused: rarely,
      altSpare: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('breakFile' as const), name, namesReadable: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteSpec' as const), name }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeOutOfBand' as const), name }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('changeTableOutOfBand' as const),
      name,
      readRetries: fc.integer({ min: 5, max: 9 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('suspendOutOfBand' as const), name }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('halfCreate' as const), name, withInactive: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('addForeign' as const),
      name: fc.constantFrom('a', 'vg-root', 'crypt-home'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('fillSpare' as const),
      name,
      blocks: fc.integer({ min: 1, max: 5 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('apply' as const), prune: rarely }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('crashDuringApply' as const),
      operation: fc.constantFrom<SimulatedOperation>(
        'create',
        'load',
        'suspend',
        'resume',
        'clearInactive',
        'remove',
      ),
      step: fc.constantFrom<CrashStep>('before', 'after', 'afterCreate', 'afterLoad'),
    }),
  },
);

const initialPolicies = fc.array(fc.constantFrom('Retain' as const, 'Delete' as const), {
  minLength: NAMES.length,
  maxLength: NAMES.length,
});

function tableFor(device: Name, readRetries: number): string {
  const spec = deviceSpec(device);
  return `0 ${MAIN_SECTORS} remap ${spec.mainDevice} ${spec.spareDevice} 4 block_size 8 read_retries ${readRetries}`;
}

/** What an apply must not change on a device whose spec file is invalid (its leftovers it repairs). */
function heldFingerprint(device: ObservedDevice | undefined): string {
  if (!device) return 'absent';
  const { name, uuid, hasLiveTable, table } = device;
  return JSON.stringify({ name, uuid, hasLiveTable, table });
}

/** Everything about a device an apply could change. */
function fingerprint(device: ObservedDevice | undefined): string {
  if (!device) return 'absent';
  const { name, uuid, suspended, hasInactiveTable, hasLiveTable, table } = device;
  return JSON.stringify({ name, uuid, suspended, hasInactiveTable, hasLiveTable, table });
}

class World {
  readonly kernel: SimulatedKernel = newKernel([...NAMES]);
  readonly specs = new MemorySpecs();
  readonly broken = new Set<string>();
  readonly foreign = new Map<string, string>();
  readonly problems: string[] = [];

  constructor() {
    for (const device of NAMES) this.kernel.addBlockDevice(ALTERNATE_SPARE(device), SPARE_SECTORS);
  }

  async run(step: Action): Promise<void> {
    const owned = (await this.kernel.observe()).devices.find(
      (d) => d.name === ('name' in step ? step.name : '') && d.owned,
    );
    const ignoreKernelRefusal = (error: unknown) => {
      if (!(error instanceof Error) || error.name !== 'KernelError') throw error;
    };
    switch (step.kind) {
      case 'setSpec':
        this.specs.set(step.name, {
          readRetries: step.readRetries,
          state: step.absent ? 'absent' : 'active',
          removalPolicy: step.policy,
          paused: step.paused,
          ...(step.altSpare ? { spareDevice: ALTERNATE_SPARE(step.name) } : {}),
        });
        this.broken.delete(step.name);
        return;
      case 'breakFile':
        this.specs.breakFile(step.name, step.namesReadable ? [step.name] : []);
        this.broken.add(step.name);
        return;
      case 'deleteSpec':
        this.specs.delete(step.name);
        this.broken.delete(step.name);
        return;
      case 'removeOutOfBand':
        if (owned) await this.kernel.remove(step.name).catch(ignoreKernelRefusal);
        return;
      case 'changeTableOutOfBand':
        if (owned?.hasLiveTable) {
          const desired = { name: step.name, uuid: owned.uuid, table: tableFor(step.name, step.readRetries) };
          await this.kernel.load(desired).catch(ignoreKernelRefusal);
          await this.kernel.resume(step.name).catch(ignoreKernelRefusal);
        }
        return;
      case 'suspendOutOfBand':
        if (owned?.hasLiveTable) await this.kernel.suspend(step.name).catch(ignoreKernelRefusal);
        return;
      case 'halfCreate':
        if (!(await this.exists(step.name))) {
          this.kernel.addHalfCreatedDevice(
            step.name,
            `DMREMAP-${step.name}`,
            step.withInactive ? tableFor(step.name, 3) : undefined,
          );
        }
        return;
      case 'addForeign':
        if (!(await this.exists(step.name))) {
          this.kernel.addForeignDevice(step.name, `LVM-${step.name}`, '0 2048 zero');
          this.foreign.set(
            step.name,
            fingerprint((await this.kernel.observe()).devices.find((d) => d.name === step.name)),
          );
        }
        return;
      case 'fillSpare':
        if (owned?.remap) this.kernel.injectRemappedBlocks(step.name, step.blocks);
        return;
      case 'apply':
        await this.apply(step.prune ? this.freshController(true, 2) : this.daemonController());
        return;
      case 'crashDuringApply':
        this.kernel.crashAt(step.operation, step.step);
        await this.apply(this.daemonController());
        // The process died: whatever it remembered is gone.
        await this.daemon?.stop(5_000);
        this.daemon = undefined;
        this.kernel.faults.clear();
        return;
    }
  }

  private daemon: Controller | undefined;

  daemonController(): Controller {
    this.daemon ??= this.freshController(false, 1);
    return this.daemon;
  }

  freshController(prune: boolean, retryLimit: number): Controller {
    return newController(this.kernel, this.specs, { prune, retryLimit, operationTimeoutMs: 500 });
  }

  /** One converge, checking it left devices with an invalid spec file exactly as they were. */
  async apply(controller: Controller): Promise<void> {
    const before = await this.heldFingerprints();
    await controller.converge(5_000);
    if (controller !== this.daemon) await controller.stop(5_000);
    const after = await this.heldFingerprints();
    for (const [device, print] of before) {
      if (after.get(device) !== print)
        this.problems.push(`held device ${device} changed: ${print} → ${after.get(device) ?? '?'}`);
    }
  }

  async checkInvariants(): Promise<void> {
    const controller = newController(this.kernel, this.specs);
    await controller.loadSpecs();
    const plan = await controller.plan();
    const actions = plan.devices.flatMap((device) =>
      device.operations
        .filter((op) => !['refuse', 'hold', 'skip', 'orphan', 'blocked', 'wait'].includes(op.kind))
        .map((op) => `${device.name}:${op.kind}`),
    );
    if (actions.length > 0) this.problems.push(`plan not empty after apply: ${actions.join(', ')}`);
    const observation = await this.kernel.observe();
    for (const [device, print] of this.foreign) {
      const now = fingerprint(observation.devices.find((d) => d.name === device));
      if (now !== print) this.problems.push(`foreign device ${device} changed: ${print} → ${now}`);
    }
    // Paused devices are the operator's; a half-created device that is held or orphaned is left as it is.
    const exempt = new Set(
      plan.devices
        .filter((d) =>
          d.operations.some((op) => op.kind === 'skip' || op.kind === 'hold' || op.kind === 'orphan'),
        )
        .map((d) => d.name),
    );
    const paused = new Set(
      plan.devices.filter((d) => d.operations.some((op) => op.kind === 'skip')).map((d) => d.name),
    );
    for (const device of observation.devices) {
      if (!device.owned || paused.has(device.name)) continue;
      if (exempt.has(device.name) && !device.hasLiveTable) continue;
      if (device.suspended || device.hasInactiveTable || !device.hasLiveTable) {
        this.problems.push(`managed device ${device.name} left ${fingerprint(device)}`);
      }
    }
  }

  async stopDaemon(): Promise<void> {
    await this.daemon?.stop(5_000);
    this.daemon = undefined;
  }

  private async exists(device: string): Promise<boolean> {
    return (await this.kernel.observe()).devices.some((d) => d.name === device);
  }

  private async heldFingerprints(): Promise<Map<string, string>> {
    const observation = await this.kernel.observe();
    return new Map(
      [...this.broken].map((device) => [
        device,
        heldFingerprint(observation.devices.find((d) => d.name === device)),
      ]),
    );
  }
}

test('random edits, drift and crashes always converge with one fresh apply', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      initialPolicies,
      fc.array(action, { minLength: 1, maxLength: 16 }),
      async (policies, actions) => {
        const world = new World();
        // Start from a converged system, as a daemon would be before things go wrong.
        for (const [index, device] of NAMES.entries())
          world.specs.set(device, { removalPolicy: policies[index] });
        await world.run({ kind: 'apply', prune: false });
        for (const step of actions) await world.run(step);
        await world.stopDaemon();
        const final = world.freshController(false, 3);
        await world.apply(final);
        await world.checkInvariants();
        if (world.problems.length > 0) throw new Error(world.problems.join('\n'));
      },
    ),
    { seed: 20261125, numRuns: 150 },
  );
  t.pass();
});
