/**
 * Layer 2 of validation: turns ajv's errors into plain-word diagnostics that
 * point at the offending YAML node. One diagnostic per offending field (ajv
 * reports e.g. both `type` and `enum` for blockSize: "x"), unknown fields get
 * a "did you mean" suggestion.
 */
import { escapeInvisible } from './characters.js';
import { DiagnosticCode } from './diagnostics.js';
import { deviceNameProblem, devicePathProblem } from './device-names.js';
import { EXPECTED_KEYWORD } from './schema.js';
import type { SchemaError } from './schema.js';
import { nearestName } from './suggest.js';
import type { Diagnostic } from './types.js';
import type { PathSegment, SourceDocument } from './yaml-source.js';

export function schemaDiagnostics(
  file: string,
  document: SourceDocument,
  errors: readonly SchemaError[],
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const reportedValues = new Set<string>();
  const device = declaredName(document.value);

  for (const problem of errors) {
    const path = pointerToPath(problem.instancePath);
    const described = describeProblem(problem, path, document.value);
    if (described === undefined) continue;
    if (described.kind === 'value') {
      if (reportedValues.has(problem.instancePath)) continue;
      reportedValues.add(problem.instancePath);
    }
    const position =
      described.kind === 'missing' && path.length === 0
        ? document.start
        : document.locate(described.path, described.kind === 'value' ? 'value' : 'key');
    diagnostics.push({
      severity: 'error',
      code: described.code,
      message: described.message,
      file,
      ...position,
      ...(device !== undefined && { device }),
    });
  }
  return diagnostics;
}

interface DescribedProblem {
  /** value: the value is wrong; unknown: the key should not be there; missing: a key should be there. */
  kind: 'value' | 'unknown' | 'missing';
  code: DiagnosticCode;
  message: string;
  /** Where to point: the field itself, or for a missing field the map that lacks it. */
  path: PathSegment[];
}

function describeProblem(
  problem: SchemaError,
  path: PathSegment[],
  root: unknown,
): DescribedProblem | undefined {
  const params = problem.params as Record<string, unknown>;
  if (problem.keyword === 'additionalProperties') {
    const field = String(params['additionalProperty']);
    const known = Object.keys((problem.parentSchema?.['properties'] as object | undefined) ?? {});
    const suggestion = nearestName(field, known);
    const where = path.length > 0 ? ` in ${dotted(path)}` : '';
    const hint =
      suggestion !== undefined
        ? `; did you mean '${suggestion}'?`
        : `; valid fields are: ${known.join(', ')}`;
    return {
      kind: 'unknown',
      code: DiagnosticCode.unknownField,
      message: `unknown field '${field}'${where}${hint}`,
      path: [...path, field],
    };
  }
  if (problem.keyword === 'required') {
    const field = String(params['missingProperty']);
    return {
      kind: 'missing',
      code: DiagnosticCode.missingField,
      message: `missing required field ${dotted([...path, field])}`,
      path,
    };
  }
  // Only the field's own schema carries the expectation; composite keywords are reported by their parts.
  const schema = problem.parentSchema;
  if (schema === undefined) return undefined;
  const expected = typeof schema[EXPECTED_KEYWORD] === 'string' ? schema[EXPECTED_KEYWORD] : problem.message;
  const value = valueAt(root, path);
  const field = path.length === 0 ? 'the document' : dotted(path);
  const nameProblem = isNamePath(path) && typeof value === 'string' ? deviceNameProblem(value) : undefined;
  if (nameProblem !== undefined) {
    return {
      kind: 'value',
      code: DiagnosticCode.invalidName,
      message: `${field} ${nameProblem}, got ${describeValue(value)}`,
      path,
    };
  }
  const pathProblem = isDevicePath(path) && typeof value === 'string' ? devicePathProblem(value) : undefined;
  if (pathProblem !== undefined) {
    return {
      kind: 'value',
      code: DiagnosticCode.invalidValue,
      message: `${field} ${pathProblem}, got ${describeValue(value)}`,
      path,
    };
  }
  return {
    kind: 'value',
    code: valueCode(problem, path),
    message: `${field} must be ${String(expected)}, got ${describeValue(value)}`,
    path,
  };
}

function valueCode(problem: SchemaError, path: PathSegment[]): DiagnosticCode {
  if (path.length === 1 && path[0] === 'apiVersion') return DiagnosticCode.badApiVersion;
  if (path.length === 1 && path[0] === 'kind') return DiagnosticCode.badKind;
  if (problem.keyword === 'type') return DiagnosticCode.wrongType;
  if (isNamePath(path)) return DiagnosticCode.invalidName;
  return DiagnosticCode.invalidValue;
}

function isNamePath(path: readonly PathSegment[]): boolean {
  return path.length === 2 && path[0] === 'metadata' && path[1] === 'name';
}

function isDevicePath(path: readonly PathSegment[]): boolean {
  return path.length === 2 && path[0] === 'spec' && (path[1] === 'mainDevice' || path[1] === 'spareDevice');
}

/** RFC 6901 JSON pointer → path segments. */
export function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function dotted(path: readonly PathSegment[]): string {
  return path.map((segment) => (typeof segment === 'number' ? `[${segment}]` : segment)).join('.');
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let node = root;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[String(segment)];
  }
  return node;
}

/**
 * How a wrong value is quoted back: short, with invisible characters escaped, and naming the YAML notion
 * (map, list) rather than JS's.
 */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return escapeInvisible(JSON.stringify(shown));
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

function declaredName(root: unknown): string | undefined {
  const name = valueAt(root, ['metadata', 'name']);
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}
