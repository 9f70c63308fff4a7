/** The report table `npm run bench` prints: one row per figure. */
import type { BenchRecord } from './record.js';

const HEADER = ['id', 'figure', 'value', 'baseline', 'ratio', 'target', 'met'];

export function formatTable(records: readonly BenchRecord[]): string {
  const rows = records.map((record) => [
    record.id,
    record.label,
    withUnit(record.value, record.unit) + (record.spread ? ` (${record.spread})` : ''),
    record.baseline === null
      ? '-'
      : `${withUnit(record.baseline, record.unit)} ${record.baselineLabel ?? ''}`.trim(),
    record.ratio === null ? '-' : formatNumber(record.ratio),
    record.target ?? '-',
    record.met === null ? '-' : record.met ? 'yes' : 'NO',
  ]);
  const widths = HEADER.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(HEADER), ...rows.map(line)].join('\n') + '\n';
}

function withUnit(value: number | null, unit: string): string {
  return value === null ? 'n/a' : `${formatNumber(value)} ${unit}`;
}

function formatNumber(value: number): string {
  if (value === 0 || Math.abs(value) >= 100) return String(Math.round(value));
  return String(Number(value.toPrecision(3)));
}
