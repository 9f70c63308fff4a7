/**
 * The config directory decides which disks a root daemon rewrites, so like
 * sshd's StrictModes it must be changeable by root alone. Pure: takes the
 * stat fields, returns what is wrong in words.
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

export function formatMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}
