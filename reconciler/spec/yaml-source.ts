/**
 * Layer 1 of validation: YAML text → plain documents, each with a way back
 * from a path inside it to a line and column. Pure: no I/O.
 *
 * The yaml library is guarded because spec files are read by a process that
 * runs as root: nesting and the number of documents are measured with the
 * (iterative) lexer before the (recursive) composer sees the text, aliases are
 * bounded when converting to plain values, and duplicate keys, complex keys and
 * unknown tags are refused rather than silently resolved.
 */
import { Composer, isAlias, isMap, isPair, isScalar, isSeq, Lexer, LineCounter, Parser, visit } from 'yaml';
import type { Document, Node as YamlNode, ParsedNode } from 'yaml';
import { DiagnosticCode } from './diagnostics.js';
import type { Diagnostic } from './types.js';

export interface Position {
  line: number;
  column: number;
}

export type PathSegment = string | number;

/** What to point at for a path: the value there, or the key that names it. */
export type LocateTarget = 'value' | 'key';

/** A YAML document that parsed cleanly. */
export interface SourceDocument {
  /** 0-based index of the document in its file. */
  index: number;
  /** Where the document's content starts. */
  start: Position;
  /** The document as plain JSON-like data (aliases expanded, within limits). */
  value: unknown;
  /** Position of the node at `path`, or of the deepest existing node on the way to it. */
  locate(path: readonly PathSegment[], target?: LocateTarget): Position;
}

export interface YamlLimits {
  /** Largest number of alias expansions per document (anchor/alias bombs). */
  maxAliasCount: number;
  /** Deepest nesting of maps and sequences accepted. */
  maxDepth: number;
  /** Most documents (devices) in one file. */
  maxDocuments: number;
  /** Stop looking for more problems once this many are found (a junk file can hold millions). */
  maxDiagnostics: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = {
  maxAliasCount: 100,
  maxDepth: 32,
  maxDocuments: 1000,
  maxDiagnostics: 100,
};

export interface ParsedYaml {
  documents: SourceDocument[];
  /**
   * metadata.name of every document that has one as a plain string, in file
   * order, including documents refused for YAML problems: the reconciler
   * freezes the devices an invalid file declares, so it needs their names.
   */
  declaredNames: string[];
  /** True when the file holds no document at all (empty, blank or comments only). */
  empty: boolean;
  diagnostics: Diagnostic[];
}

/** Tags of YAML's core schema; anything else (!!binary, !!set, custom tags) is refused. */
const CORE_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((name) => `tag:yaml.org,2002:${name}`),
);

export function parseYaml(file: string, text: string, limits: YamlLimits = DEFAULT_YAML_LIMITS): ParsedYaml {
  const lineCounter = new LineCounter();
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const error = (code: DiagnosticCode, message: string, position: Position): Diagnostic => ({
    severity: 'error',
    code,
    message,
    file,
    ...position,
  });

  const composed = composeGuarded(text, lineCounter, limits);
  if ('refused' in composed) {
    const { refused } = composed;
    const position = positionOfOffset(text, refused.offset);
    const diagnostic =
      refused.kind === 'nesting'
        ? error(DiagnosticCode.nestingTooDeep, nestingMessage(limits.maxDepth), position)
        : error(
            DiagnosticCode.tooManyDocuments,
            `more than ${limits.maxDocuments} YAML documents in one file; split them over several files`,
            position,
          );
    return { documents: [], declaredNames: [], empty: false, diagnostics: [diagnostic] };
  }
  const { docs } = composed;
  const diagnostics: Diagnostic[] = [];
  const documents: SourceDocument[] = [];
  const declaredNames: string[] = [];

  // Every alias is spelled with a '*': without one, there is nothing to resolve (and two tree walks to save).
  const mayHaveAliases = text.includes('*');
  const anchors = mayHaveAliases ? docs.map((doc) => anchorsOf(doc, text, at)) : [];

  for (const [index, doc] of docs.entries()) {
    if (diagnostics.length >= limits.maxDiagnostics) break;
    const name = declaredName(doc);
    if (name !== undefined) declaredNames.push(name);
    const before = diagnostics.length;
    for (const problem of doc.errors) {
      const position = at(problem.pos[0]);
      if (problem.code === 'RESOURCE_EXHAUSTION') {
        diagnostics.push(error(DiagnosticCode.nestingTooDeep, nestingMessage(limits.maxDepth), position));
      } else {
        diagnostics.push(error(DiagnosticCode.yamlSyntax, firstLine(problem.message), position));
      }
    }
    if (diagnostics.length > before) continue;

    const contents = doc.contents;
    if (contents === null || isEmptyScalar(contents)) {
      // Point at the document's start (its '---'), not at the nothing after it.
      const offset = doc.range[0];
      diagnostics.push(
        error(
          DiagnosticCode.emptyDocument,
          `YAML document ${index + 1} is empty; remove the extra '---' separator or fill in a RemapDevice`,
          at(offset),
        ),
      );
      continue;
    }

    for (const problem of checkTree(contents, limits, at, error)) diagnostics.push(problem);
    if (diagnostics.length > before) continue;
    if (mayHaveAliases) {
      for (const problem of unresolvedAliases(doc, index, anchors, at, error)) diagnostics.push(problem);
      if (diagnostics.length > before) continue;
    }

    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
    } catch (cause) {
      if (!(cause instanceof ReferenceError)) throw cause;
      diagnostics.push(
        error(
          DiagnosticCode.tooManyAliases,
          `too many alias expansions (more than ${limits.maxAliasCount}); spec files do not need anchors and aliases`,
          at(firstAliasOffset(doc) ?? contents.range[0]),
        ),
      );
      continue;
    }
    documents.push({ index, start: at(contents.range[0]), value, locate: locator(doc, at) });
  }

  return { documents, declaredNames, empty: docs.length === 0, diagnostics };
}

/**
 * Walks the node tree without recursion (so hostile input cannot exhaust the
 * stack) checking depth, duplicate keys, non-string keys and tags.
 */
function checkTree(
  root: ParsedNode,
  { maxDepth, maxDiagnostics }: YamlLimits,
  at: (offset: number) => Position,
  error: (code: DiagnosticCode, message: string, position: Position) => Diagnostic,
): Diagnostic[] {
  const offsetOf = (node: unknown, fallback: number): number =>
    (node as YamlNode | null)?.range?.[0] ?? fallback;
  const found: Diagnostic[] = [];
  const pending: { node: unknown; depth: number }[] = [{ node: root, depth: 1 }];
  while (pending.length > 0 && found.length < maxDiagnostics) {
    const { node, depth } = pending.pop()!;
    if (!isMap(node) && !isSeq(node) && !isScalar(node)) continue; // aliases are bounded by maxAliasCount
    if (node.tag !== undefined && !CORE_TAGS.has(node.tag)) {
      const tag = node.tag.replace(/^tag:yaml\.org,2002:/, '!!');
      found.push(error(DiagnosticCode.yamlSyntax, `unsupported YAML tag ${tag}`, at(offsetOf(node, 0))));
      continue;
    }
    if (isScalar(node)) continue;
    if (depth > maxDepth) {
      found.push(error(DiagnosticCode.nestingTooDeep, nestingMessage(maxDepth), at(offsetOf(node, 0))));
      return found;
    }
    if (isSeq(node)) {
      for (const item of node.items) pending.push({ node: item, depth: depth + 1 });
      continue;
    }
    const seen = new Map<string, YamlNode>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = pair.key;
      if (!isScalar(key) || (key.value !== null && typeof key.value === 'object')) {
        const offset = offsetOf(key, offsetOf(node, 0));
        found.push(error(DiagnosticCode.yamlSyntax, 'map keys must be plain strings', at(offset)));
        continue;
      }
      const name = String(key.value);
      const first = seen.get(name);
      if (first) {
        const firstAt = at(offsetOf(first, 0));
        found.push(
          error(
            DiagnosticCode.duplicateKey,
            `duplicate key '${name}' (first defined at line ${firstAt.line}, column ${firstAt.column})`,
            at(offsetOf(key, 0)),
          ),
        );
      } else {
        seen.set(name, key);
      }
      pending.push({ node: pair.value, depth: depth + 1 });
    }
  }
  return found;
}

function locator(doc: Document.Parsed, at: (offset: number) => Position) {
  return (path: readonly PathSegment[], target: LocateTarget = 'value'): Position => {
    let node: unknown = doc.contents;
    let best = (node as YamlNode | null)?.range?.[0] ?? 0;
    for (const [i, segment] of path.entries()) {
      if (isAlias(node)) node = node.resolve(doc);
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) break;
        const keyOffset = (pair.key as YamlNode).range?.[0] ?? best;
        const isLast = i === path.length - 1;
        const value = pair.value as YamlNode | null;
        if ((isLast && target === 'key') || value === null || isEmptyScalar(value)) return at(keyOffset);
        next = value;
      } else if (isSeq(node) && typeof segment === 'number') {
        next = node.items[segment];
      }
      const range = (next as YamlNode | undefined)?.range;
      if (!range) break;
      best = range[0];
      node = next;
    }
    return at(best);
  };
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && (node.source ?? '') === '';
}

type PreScanProblem = { kind: 'nesting' | 'documents'; offset: number };

/**
 * Watches the lexer's tokens (iterative) on their way to the parser and
 * refuses what would make the (recursive) composer overflow the stack or
 * spend seconds: flow collections ('[', '{') or same-line block indicators
 * ('- - - …') nested deeper than maxDepth, and more than maxDocuments
 * documents. Brackets inside quoted strings are single scalar tokens, so
 * they do not count.
 */
class TokenGuard {
  private flowDepth = 0;
  private indicatorsOnLine = 0;
  // Counts '---' markers: a file without a leading one holds one document more (harmless slack).
  private documents = 0;
  private offset = 0;

  constructor(private readonly limits: YamlLimits) {}

  /** The problem this token makes, if any; else moves past it. */
  check(token: string): PreScanProblem | undefined {
    const { maxDepth, maxDocuments } = this.limits;
    if (token === '[' || token === '{') {
      this.flowDepth += 1;
      if (this.flowDepth > maxDepth) return { kind: 'nesting', offset: this.offset };
    } else if (token === ']' || token === '}') {
      this.flowDepth = Math.max(0, this.flowDepth - 1);
    } else if (token === '-' || token === '?' || token === ':') {
      this.indicatorsOnLine += 1;
      if (this.indicatorsOnLine > maxDepth) return { kind: 'nesting', offset: this.offset };
    } else if (token === '---') {
      this.documents += 1;
      if (this.documents > maxDocuments) return { kind: 'documents', offset: this.offset };
    } else if (token.startsWith('\n') || token.startsWith('\r')) {
      this.indicatorsOnLine = 0;
    }
    if (!isLexerControlToken(token)) this.offset += token.length;
    return undefined;
  }
}

/**
 * parseAllDocuments, with each lexer token checked by a TokenGuard before the
 * parser sees it: the text is lexed once, and the composer never sees a
 * document the guard refused (the parser hands over a document only once it
 * is complete).
 */
function composeGuarded(
  text: string,
  lineCounter: LineCounter,
  limits: YamlLimits,
): { docs: Document.Parsed[] } | { refused: PreScanProblem } {
  const guard = new TokenGuard(limits);
  let refused: PreScanProblem | undefined;
  function* tokens() {
    const parser = new Parser(lineCounter.addNewLine);
    lineCounter.addNewLine(0);
    for (const token of new Lexer().lex(text)) {
      refused = guard.check(token);
      if (refused !== undefined) return;
      yield* parser.next(token);
    }
    yield* parser.end();
  }
  const docs = Array.from(new Composer({ uniqueKeys: false }).compose(tokens()));
  return refused !== undefined ? { refused } : { docs };
}

/** The lexer's marker tokens (document start, scalar start, flow error end) stand for no source text. */
function isLexerControlToken(token: string): boolean {
  return token === '\x02' || token === '\x1f' || token === '\x18';
}

/** Line and column (in UTF-16 units, as the yaml library counts) of a string offset. */
export function positionOfOffset(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

function nestingMessage(maxDepth: number): string {
  return `maps and lists nested more than ${maxDepth} levels deep; a RemapDevice needs at most 3`;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!;
}

interface Anchor {
  name: string;
  at: Position;
}

/** Every anchor of a document, in order, positioned at its '&' (the node's range starts after it). */
function anchorsOf(doc: Document.Parsed, text: string, at: (offset: number) => Position): Anchor[] {
  const found: Anchor[] = [];
  visit(doc, (_, node) => {
    const anchor = (node as { anchor?: unknown } | null)?.anchor;
    if (typeof anchor === 'string' && anchor !== '') {
      const start = (node as YamlNode).range?.[0] ?? 0;
      const mark = text.lastIndexOf(`&${anchor}`, start);
      found.push({ name: anchor, at: at(mark === -1 ? start : mark) });
    }
  });
  return found;
}

/**
 * Aliases that name no anchor before them in their document. The yaml library
 * only says so when converting (as a ReferenceError, like an alias bomb), so
 * each one is found here and explained: a typo, an anchor that comes after its
 * use, or one in another document of the file.
 */
function unresolvedAliases(
  doc: Document.Parsed,
  index: number,
  anchors: readonly Anchor[][],
  at: (offset: number) => Position,
  error: (code: DiagnosticCode, message: string, position: Position) => Diagnostic,
): Diagnostic[] {
  const found: Diagnostic[] = [];
  const where = (position: Position) => `line ${position.line}, column ${position.column}`;
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) !== undefined) return;
      const name = alias.source;
      const later = anchors[index]?.find((anchor) => anchor.name === name);
      const elsewhere = anchors.flat().find((anchor) => anchor.name === name);
      const message =
        later !== undefined
          ? `alias '*${name}' is used before its anchor '&${name}' (${where(later.at)}); an anchor must come first`
          : elsewhere !== undefined
            ? `unknown alias '*${name}': its anchor '&${name}' (${where(elsewhere.at)}) is in another YAML ` +
              "document, and anchors do not reach across '---'"
            : `unknown alias '*${name}': no anchor '&${name}' is defined in this YAML document`;
      found.push(error(DiagnosticCode.unknownAlias, message, at(alias.range?.[0] ?? 0)));
    },
  });
  return found;
}

/** Where the first alias is, to point at the start of an alias bomb. Depth is already bounded here. */
function firstAliasOffset(doc: Document.Parsed): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_, node) {
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}

/** Read from the syntax tree, without expanding aliases, so it works on broken documents too. */
function declaredName(doc: Document.Parsed): string | undefined {
  if (!isMap(doc.contents)) return undefined;
  const name: unknown = doc.getIn(['metadata', 'name']);
  return typeof name === 'string' ? name : undefined;
}
