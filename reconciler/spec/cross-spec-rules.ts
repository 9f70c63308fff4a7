/**
 * Layer 3, across every document of every file: a device name declared
 * twice, or one block device claimed twice (by two specs, or as both main and
 * spare of one). Pure: the loader resolves paths to device identities (it may
 * stat and realpath) and passes them in, so two symlinks to one disk match.
 *
 * Every party to a conflict is rejected and told where the other one is:
 * guessing which of two specs the admin meant could hand a disk to the wrong
 * device.
 */
import path from 'node:path';
import { DiagnosticCode } from './diagnostics.js';
import { formatLocation } from './location.js';
import type { Diagnostic } from './types.js';
import type { CheckedDocument } from './validate-text.js';

/** Maps a device path to what identifies the device behind it (e.g. its major:minor). */
export type DeviceIdentityOf = (devicePath: string) => string;

/**
 * Without I/O the best identity of a path is its normalized spelling: no '.', '..' or doubled '/', and
 * no trailing '/' (which a device path may not have, but the pure rules must not depend on that).
 */
export const normalizedPathIdentity: DeviceIdentityOf = (devicePath) =>
  path.posix.normalize(devicePath).replace(/(?<=.)\/+$/, '');

export interface CrossSpecResult {
  /** Documents that survive every rule. */
  accepted: CheckedDocument[];
  diagnostics: Diagnostic[];
}

type Role = 'mainDevice' | 'spareDevice';

export function checkAcrossSpecs(
  documents: readonly CheckedDocument[],
  identityOf: DeviceIdentityOf = normalizedPathIdentity,
): CrossSpecResult {
  const diagnostics: Diagnostic[] = [];
  const rejected = new Set<CheckedDocument>();
  const reject = (document: CheckedDocument, diagnostic: Diagnostic): void => {
    rejected.add(document);
    diagnostics.push(diagnostic);
  };

  for (const document of documents) {
    const { spec, at } = document;
    if (identityOf(spec.mainDevice) !== identityOf(spec.spareDevice)) continue;
    const same =
      spec.mainDevice === spec.spareDevice
        ? ''
        : ` (${spec.spareDevice} and ${spec.mainDevice} are one device)`;
    reject(document, {
      ...errorAt(DiagnosticCode.sameMainAndSpare, at.spareDevice, document),
      message: `spec.spareDevice must be a different device from spec.mainDevice${same}`,
    });
  }

  for (const group of groupBy(documents, (document) => document.spec.name)) {
    if (group.length < 2) continue;
    for (const document of group) {
      const others = someOthers(group, (other) => other !== document);
      const places = others.named.map((other) =>
        formatLocation({ file: other.spec.source.file, ...other.at.name }),
      );
      const more = others.more > 0 ? ` and ${others.more} more places` : '';
      reject(document, {
        ...errorAt(DiagnosticCode.duplicateName, document.at.name, document),
        message: `device name '${document.spec.name}' is also declared at ${places.join(', ')}${more}`,
      });
    }
  }

  const claims = documents.flatMap((document) =>
    (['mainDevice', 'spareDevice'] as const).map((role) => ({ document, role })),
  );
  for (const group of groupBy(claims, ({ document, role }) => identityOf(document.spec[role]))) {
    const claimants = new Set(group.map((claim) => claim.document));
    if (claimants.size < 2) continue; // one spec using a device as main and spare is reported above
    for (const claim of group) {
      const others = someOthers(group, (other) => other.document !== claim.document);
      const users = others.named.map(describeClaim);
      if (others.more > 0) users.push(`${others.more} more devices`);
      reject(claim.document, {
        ...errorAt(DiagnosticCode.sharedDevice, claim.document.at[claim.role], claim.document),
        message: `spec.${claim.role} ${claim.document.spec[claim.role]} is also used by ${users.join(' and ')}`,
      });
    }
  }

  return { accepted: documents.filter((document) => !rejected.has(document)), diagnostics };
}

/** How many other parties to a conflict each one is told of by name; the rest are counted. */
const OTHERS_NAMED = 3;

/**
 * The first OTHERS_NAMED members of `group` that `isOther` accepts, and how many more there are: naming
 * every other party made each message, and the time to build them all, grow with the square of the group.
 */
function someOthers<T>(group: readonly T[], isOther: (item: T) => boolean): { named: T[]; more: number } {
  const named: T[] = [];
  let others = 0;
  for (const item of group) {
    if (!isOther(item)) continue;
    others += 1;
    if (named.length < OTHERS_NAMED) named.push(item);
  }
  return { named, more: others - named.length };
}

function describeClaim({ document, role }: { document: CheckedDocument; role: Role }): string {
  return `device '${document.spec.name}' as its ${role} (${formatLocation({ ...document.spec.source, ...document.at[role] })})`;
}

function errorAt(
  code: DiagnosticCode,
  position: { line: number; column: number },
  document: CheckedDocument,
): Omit<Diagnostic, 'message'> {
  return {
    severity: 'error',
    code,
    file: document.spec.source.file,
    ...position,
    device: document.spec.name,
  };
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()];
}
