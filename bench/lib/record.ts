/**
 * One benchmark figure as both halves of `npm run bench` report it (the host
 * figures here, the guest ones as `BENCH_RESULT <json>` lines of
 * bench/guest.sh): the figure, the baseline measured in the same run, their
 * ratio and the target.
 *
 * A target reads `<op> <number> [unit]`. With a unit (`<= 50 ms`) it applies
 * to the value in that unit; without one it applies to the ratio, or to the
 * value when there is no baseline (bench/guest.sh's convention).
 */

export interface BenchRecord {
  id: string;
  label: string;
  value: number | null;
  unit: string;
  baselineLabel: string | null;
  baseline: number | null;
  ratio: number | null;
  target: string | null;
  met: boolean | null;
  spread?: string;
  extra?: Record<string, unknown>;
}

export interface FigureInput {
  id: string;
  label: string;
  value: number | null;
  unit: string;
  baselineLabel?: string;
  baseline?: number | null;
  target?: string;
  spread?: string;
  extra?: Record<string, unknown>;
}

type Comparison = '<=' | '<' | '>=' | '>';

export interface Target {
  comparison: Comparison;
  bound: number;
  /** Set: the target applies to the value in this unit; absent: to the ratio. */
  unit?: string;
}

const TARGET = /^\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*(\S+)?\s*$/;

export function parseTarget(text: string): Target {
  const match = TARGET.exec(text);
  if (!match) throw new SyntaxError(`target "${text}" is not "<op> <number> [unit]"`);
  const target: Target = { comparison: match[1] as Comparison, bound: Number(match[2]) };
  return match[3] === undefined ? target : { ...target, unit: match[3] };
}

/** value ÷ baseline, or null when either is missing or the baseline is zero. */
export function ratioOf(value: number | null, baseline: number | null | undefined): number | null {
  if (value === null || baseline === null || baseline === undefined || baseline === 0) return null;
  return value / baseline;
}

/** Whether the record meets `target`; null when what it applies to was not measured. */
export function meets(
  target: string,
  record: Pick<BenchRecord, 'value' | 'unit' | 'ratio' | 'baseline'>,
): boolean | null {
  const parsed = parseTarget(target);
  let measured: number | null;
  if (parsed.unit !== undefined) {
    if (parsed.unit !== record.unit) {
      throw new RangeError(`target "${target}" is in ${parsed.unit}, the figure in ${record.unit}`);
    }
    measured = record.value;
  } else {
    measured = record.baseline === null ? record.value : record.ratio;
  }
  if (measured === null || !Number.isFinite(measured)) return null;
  switch (parsed.comparison) {
    case '<=':
      return measured <= parsed.bound;
    case '<':
      return measured < parsed.bound;
    case '>=':
      return measured >= parsed.bound;
    case '>':
      return measured > parsed.bound;
  }
}

/** A record from what was measured: the ratio computed and the target evaluated. */
export function figure(input: FigureInput): BenchRecord {
  const baseline = input.baseline ?? null;
  const ratio = ratioOf(input.value, baseline);
  const record: BenchRecord = {
    id: input.id,
    label: input.label,
    value: input.value,
    unit: input.unit,
    baselineLabel: input.baselineLabel ?? null,
    baseline,
    ratio,
    target: input.target ?? null,
    met: null,
  };
  if (input.target !== undefined) record.met = meets(input.target, record);
  if (input.spread !== undefined) record.spread = input.spread;
  if (input.extra !== undefined) record.extra = input.extra;
  return record;
}

const PREFIX = 'BENCH_RESULT ';

/** The `BENCH_RESULT <json>` line of a record. */
export function formatBenchResult(record: BenchRecord): string {
  return PREFIX + JSON.stringify(record);
}

export interface ParsedResults {
  records: BenchRecord[];
  /** Lines that start like a result but cannot be read as one, with why. */
  rejected: { line: string; reason: string }[];
}

/** The records among the lines of `text` (other lines, a guest's console chatter, are skipped). */
export function parseBenchResults(text: string): ParsedResults {
  const parsed: ParsedResults = { records: [], rejected: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith(PREFIX)) continue;
    try {
      parsed.records.push(asRecord(JSON.parse(line.slice(PREFIX.length))));
    } catch (error) {
      parsed.rejected.push({ line, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return parsed;
}

function asRecord(value: unknown): BenchRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('not a JSON object');
  }
  const fields = value as Record<string, unknown>;
  const text = (name: string, nullable: boolean): void => {
    const field = fields[name];
    if (!(typeof field === 'string' || (nullable && (field === null || field === undefined)))) {
      throw new TypeError(`"${name}" is not a string`);
    }
  };
  const numeric = (name: string): void => {
    const field = fields[name];
    if (!(typeof field === 'number' || field === null || field === undefined)) {
      throw new TypeError(`"${name}" is not a number`);
    }
  };
  text('id', false);
  text('label', false);
  text('unit', false);
  text('baselineLabel', true);
  text('target', true);
  numeric('value');
  numeric('baseline');
  numeric('ratio');
  const met = fields.met;
  if (!(typeof met === 'boolean' || met === null || met === undefined)) {
    throw new TypeError('"met" is not a boolean');
  }
  const record: BenchRecord = {
    id: fields.id as string,
    label: fields.label as string,
    value: (fields.value as number | null | undefined) ?? null,
    unit: fields.unit as string,
    baselineLabel: (fields.baselineLabel as string | null | undefined) ?? null,
    baseline: (fields.baseline as number | null | undefined) ?? null,
    ratio: (fields.ratio as number | null | undefined) ?? null,
    target: (fields.target as string | null | undefined) ?? null,
    met: met ?? null,
  };
  if (typeof fields.spread === 'string') record.spread = fields.spread;
  if (typeof fields.extra === 'object' && fields.extra !== null) {
    record.extra = fields.extra as Record<string, unknown>;
  }
  return record;
}
