/**
 * Validation of one spec file's text: YAML, schema, then the rules on each
 * document alone. Pure (no I/O), so the reconciler, the CLI and the tests
 * share it; rules across files live in cross-spec-rules.ts.
 */
import { DiagnosticCode, isError } from './diagnostics.js';
import { documentDiagnostics } from './document-rules.js';
import type { FieldPositions } from './document-rules.js';
import { normalizeManifest } from './normalize.js';
import { schemaValidator } from './schema.js';
import { schemaDiagnostics } from './schema-messages.js';
import type { DeviceSpec, Diagnostic } from './types.js';
import { DEFAULT_YAML_LIMITS, parseYaml, positionOfOffset } from './yaml-source.js';
import type { SourceDocument, YamlLimits } from './yaml-source.js';

/** A document that passed every check of its own. */
export interface CheckedDocument {
  spec: DeviceSpec;
  at: FieldPositions;
}

export interface TextValidation {
  file: string;
  /** Documents without errors; the caller decides whether a file with errors elsewhere still counts. */
  documents: CheckedDocument[];
  /** Every metadata.name found, valid or not, in file order. */
  declaredNames: string[];
  diagnostics: Diagnostic[];
}

export function validateText(
  file: string,
  text: string,
  limits: YamlLimits = DEFAULT_YAML_LIMITS,
): TextValidation {
  const result: TextValidation = { file, documents: [], declaredNames: [], diagnostics: [] };
  const fileProblem = wholeFileProblem(file, text);
  if (fileProblem !== undefined) {
    result.diagnostics.push(fileProblem);
    return result;
  }

  const parsed = parseYaml(file, text, limits);
  result.diagnostics = parsed.diagnostics;
  result.declaredNames = parsed.declaredNames;
  if (parsed.empty) {
    result.diagnostics.push(
      fileError(file, DiagnosticCode.emptyFile, 'file holds only comments, no YAML document'),
    );
  }
  for (const document of parsed.documents) {
    const checked = checkDocument(file, document);
    result.diagnostics = result.diagnostics.concat(checked.diagnostics);
    if (checked.document !== undefined) result.documents.push(checked.document);
  }
  result.diagnostics = capDiagnostics(file, result.diagnostics, limits.maxDiagnostics);
  return result;
}

/** Like a compiler's error limit: past it, more lines only bury the first (usually root) cause. */
function capDiagnostics(file: string, diagnostics: Diagnostic[], max: number): Diagnostic[] {
  if (diagnostics.length <= max) return diagnostics;
  return [
    ...diagnostics.slice(0, max),
    {
      severity: 'error',
      code: DiagnosticCode.tooManyProblems,
      message: `too many problems; stopped after the first ${max}`,
      file,
    },
  ];
}

function checkDocument(
  file: string,
  document: SourceDocument,
): { document?: CheckedDocument; diagnostics: Diagnostic[] } {
  const validate = schemaValidator();
  if (!validate(document.value)) {
    return { diagnostics: schemaDiagnostics(file, document, validate.errors ?? []) };
  }
  const spec = normalizeManifest(document.value, { file, ...document.start });
  const at: FieldPositions = {
    name: document.locate(['metadata', 'name']),
    mainDevice: document.locate(['spec', 'mainDevice']),
    spareDevice: document.locate(['spec', 'spareDevice']),
  };
  const diagnostics = documentDiagnostics({ file, spec, at });
  const valid = !diagnostics.some(isError);
  return valid ? { document: { spec, at }, diagnostics } : { diagnostics };
}

/** Problems that make parsing pointless: say plainly what is wrong instead of a parser's complaint. */
function wholeFileProblem(file: string, text: string): Diagnostic | undefined {
  if (text.length === 0) return fileError(file, DiagnosticCode.emptyFile, 'file is empty');
  if (text.trim().length === 0)
    return fileError(file, DiagnosticCode.emptyFile, 'file contains only whitespace');
  const nul = text.indexOf('\0');
  if (nul !== -1) {
    return {
      severity: 'error',
      code: DiagnosticCode.binaryContent,
      message: 'file contains a NUL character: it looks like binary data, not a YAML spec',
      file,
      ...positionOfOffset(text, nul),
    };
  }
  return undefined;
}

function fileError(file: string, code: DiagnosticCode, message: string): Diagnostic {
  return { severity: 'error', code, message, file, line: 1, column: 1 };
}
