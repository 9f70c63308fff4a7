/**
 * `dm-remap status` as a table, like `lvs`: one row per device, then one line
 * per condition that needs attention (Failed, Degraded, not Ready), each with
 * its reason and message.
 */
import type { Condition, ConditionType } from './conditions.js';
import { spareUsagePercent } from './conditions.js';
import type { DeviceStatus } from './deviceStatus.js';

const COLUMNS = [
  'NAME',
  'PHASE',
  'READY',
  'HEALTH',
  'REMAPPED',
  'PENDING',
  'SPARE USED',
  'IO ERRORS',
  'LOST',
  'LAST ERROR',
  'AGE',
] as const;

export interface FormatStatusOptions {
  now: Date;
  /** The conditions' lastTransitionTime comes from a daemon's view (else AGE is unknown: "-"). */
  transitionsKnown: boolean;
}

export function formatStatus(devices: readonly DeviceStatus[], options: FormatStatusOptions): string {
  const rows = [[...COLUMNS], ...devices.map((device) => rowOf(device, options))];
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const table = rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  '),
  );
  const problems = devices.flatMap(problemLines);
  return [...table, ...(problems.length > 0 ? ['', ...problems] : [])].join('\n') + '\n';
}

function rowOf(device: DeviceStatus, options: FormatStatusOptions): string[] {
  const target = device.target;
  const ready = conditionOf(device, 'Ready');
  return [
    device.name,
    device.phase,
    ready?.status ?? '-',
    target?.health ?? '-',
    target ? String(target.remappedBlocks) : '-',
    target ? String(target.pendingBlocks) : '-',
    target ? `${target.spareBlocksUsed}/${target.spareBlocksTotal} ${spareUsagePercent(target)}%` : '-',
    target ? `${target.readErrors}/${target.writeErrors}` : '-',
    target ? String(target.lostSectors) : '-',
    lastError(device),
    options.transitionsKnown && ready ? age(ready.lastTransitionTime, options.now) : '-',
  ];
}

/** What stops the device, in one word: the Failed reason, or why it backs off. */
function lastError(device: DeviceStatus): string {
  const failed = conditionOf(device, 'Failed');
  if (failed?.status === 'True') return failed.reason;
  const ready = conditionOf(device, 'Ready');
  if (ready?.status === 'False' && ready.reason === 'BackingOff') return ready.message;
  return '-';
}

function problemLines(device: DeviceStatus): string[] {
  const lines: string[] = [];
  const failed = conditionOf(device, 'Failed');
  const degraded = conditionOf(device, 'Degraded');
  const ready = conditionOf(device, 'Ready');
  if (failed?.status === 'True') lines.push(problemLine(device.name, failed));
  if (degraded?.status === 'True') lines.push(problemLine(device.name, degraded));
  if (ready?.status === 'False' && ready.reason !== failed?.reason)
    lines.push(problemLine(device.name, ready));
  return lines;
}

function problemLine(name: string, condition: Condition): string {
  return `${name}: ${condition.type}/${condition.reason}: ${condition.message}`;
}

function conditionOf(device: DeviceStatus, type: ConditionType): Condition | undefined {
  return device.conditions.find((condition) => condition.type === type);
}

/** Like kubectl's AGE: 45s, 12m, 5h, 3d. */
export function age(since: string, now: Date): string {
  const seconds = Math.max(0, Math.floor((now.getTime() - Date.parse(since)) / 1_000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7_200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3_600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
