/** Durations as operators write them on the command line: "500ms", "30s", "5m", "1h", or bare seconds. */
const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or undefined when `text` is not a positive duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const milliseconds = Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1_000);
  return milliseconds > 0 && Number.isFinite(milliseconds) ? Math.round(milliseconds) : undefined;
}
