/**
 * Which entries of a config directory are spec files. Like systemd's *.d
 * directories: only *.yaml and *.yml are read; hidden files and the leftovers
 * of editors and package managers are skipped, so a half-saved edit or a
 * dpkg conffile prompt never turns into a device.
 */

const SPEC_EXTENSIONS = ['.yaml', '.yml'];

/** Leftovers that may end in .yaml-like names or sit next to spec files. */
const LEFTOVER_PATTERNS: readonly RegExp[] = [
  /~$/, // editor backups
  /\.sw[op]$/, // vim swap files
  /^#.*#$/, // emacs autosave
  /\.dpkg-(?:dist|old|new|tmp|bak)$/,
  /\.rpm(?:new|save|orig)$/,
  /\.ucf-(?:dist|old|new)$/,
];

export type EntryVerdict = { read: true } | { read: false; reason: string };

export function classifyEntryName(name: string): EntryVerdict {
  if (name.startsWith('.')) return { read: false, reason: 'hidden file' };
  if (LEFTOVER_PATTERNS.some((pattern) => pattern.test(name))) {
    return { read: false, reason: 'editor or package manager leftover' };
  }
  if (!SPEC_EXTENSIONS.some((extension) => name.endsWith(extension))) {
    return { read: false, reason: 'not a .yaml or .yml file' };
  }
  return { read: true };
}
