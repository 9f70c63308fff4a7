/**
 * Which `main_id` a new device's table carries, decided before the kernel is
 * asked, from the main disk's identity and what the spare's superblock says.
 * The module records main_id when it formats a blank spare and refuses any
 * later table that gives another (or none when one was given), so:
 *
 *   blank spare                     → the main's identity (none if it has none: warn)
 *   formatted with main_id X        → X if the main is X, else refuse here with both identities
 *   formatted without main_id       → none (a spare formatted before main_id was passed:
 *                                     it keeps working, unprotected: warn)
 *   unreadable, corrupt or foreign  → the main's identity, and the module decides (warn)
 *
 * A live device is never re-decided: a reload carries its live table's main_id.
 */
import type { BlockDeviceInfo, SpareMetadata } from '../kernel/adapter.js';

export type MainIdDecision =
  { kind: 'pass'; mainId: string | undefined; warning?: string } | { kind: 'refuse'; reason: string };

export interface MainIdInput {
  /** The paths as the spec names them, for messages. */
  mainPath: string;
  sparePath: string;
  main: BlockDeviceInfo;
  spare: BlockDeviceInfo;
  /** Undefined when it was not read. */
  metadata: SpareMetadata | undefined;
}

export function decideMainId(input: MainIdInput): MainIdDecision {
  const { main, metadata } = input;
  const resolved = main.identity?.mainId;
  const mainName = `${input.mainPath} (${main.majorMinor})`;
  const spareName = `${input.sparePath} (${input.spare.majorMinor})`;

  if (metadata === undefined || metadata.state === 'unknown') {
    const why = metadata === undefined ? 'it was not read' : metadata.reason;
    const passing = resolved === undefined ? 'no main_id' : `main_id ${resolved}`;
    return {
      kind: 'pass',
      mainId: resolved,
      warning: `cannot tell what the spare ${spareName} belongs to (${why}); creating with ${passing} and leaving the verdict to the kernel, which refuses metadata it cannot trust`,
    };
  }
  if (metadata.state === 'blank') {
    if (resolved !== undefined) return { kind: 'pass', mainId: resolved };
    return {
      kind: 'pass',
      mainId: undefined,
      warning:
        `the main device ${mainName} has no stable identity in sysfs (no wwid, serial, dm or md uuid: ` +
        'a loop device, say), so the blank spare is formatted without main_id and is tied to it by size ' +
        'and block size only',
    };
  }
  const recorded = metadata.superblock.mainId;
  if (recorded === '') {
    return {
      kind: 'pass',
      mainId: undefined,
      warning:
        `the spare ${spareName} was formatted without a main_id (before dm-remap passed one, or for a ` +
        'main without identity): it keeps working, tied to its main by size and block size only, and is ' +
        'not protected against disks trading names (README.md, "Which disk a spare belongs to")',
    };
  }
  if (recorded === resolved) return { kind: 'pass', mainId: recorded };
  const actual =
    main.identity === undefined
      ? 'has no stable identity'
      : `is "${main.identity.mainId}" (read from ${main.identity.source})`;
  return {
    kind: 'refuse',
    reason:
      `the spare ${spareName} belongs to the main disk "${recorded}", but the main device ${mainName} ` +
      `${actual}: ${input.mainPath} is not the disk this spare belongs to (disk names can change ` +
      "between boots); point mainDevice at that disk, or spareDevice at this disk's own spare, " +
      'e.g. by /dev/disk/by-id names',
  };
}
