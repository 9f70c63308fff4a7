/**
 * The config directory decides which disks a root daemon rewrites, so like
 * sshd's StrictModes it, its files and every directory above them must be
 * changeable by root alone. Pure: takes the stat fields, returns what is
 * wrong in words.
 */

export interface OwnershipFacts {
  uid: number;
  mode: number;
}

/** Why a non-root user could change this file or directory; undefined when only root can. */
export function insecurePermissionProblem(facts: OwnershipFacts): string | undefined {
  const problems: string[] = [];
  if (facts.uid !== 0) problems.push(`is owned by uid ${facts.uid}, not root`);
  const writers = [facts.mode & 0o020 && 'group', facts.mode & 0o002 && 'others'].filter(Boolean);
  if (writers.length > 0) problems.push(`is writable by ${writers.join(' and ')}`);
  if (problems.length === 0) return undefined;
  return `${problems.join(' and ')} (mode ${formatMode(facts.mode)})`;
}

/**
 * Why a non-root user could replace what lies below this directory (a
 * directory on the path to the config dir or a spec file); undefined when
 * only root can. sshd's StrictModes refuses these too, with one exception
 * here: a root-owned directory with the sticky bit, like /tmp, where others
 * may add entries but may neither rename nor remove root's (the entry below
 * is itself checked to be root's).
 */
export function insecureAncestorProblem(facts: OwnershipFacts): string | undefined {
  const sticky = (facts.mode & 0o1000) !== 0;
  if (facts.uid === 0 && sticky) return undefined;
  return insecurePermissionProblem(facts);
}

export function formatMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}
