/**
 * Data-driven: every tests/corpus/bad/NAME.yaml must produce exactly the
 * diagnostics listed in NAME.expect.json, and no device; every
 * tests/corpus/dirs/NAME/ read as a config dir must produce exactly the
 * diagnostics and file verdicts of NAME.expect.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { loadSpecs } from '../../reconciler/spec/index.js';

// Relative to the project root (ava's working directory), as messages quote file paths as given.
const CORPUS_DIR = path.join('tests', 'corpus', 'bad');
const DIRS_DIR = path.join('tests', 'corpus', 'dirs');

interface Expected {
  /** "line:column", or "file" for a problem of the file as a whole. */
  at: string;
  severity: 'error' | 'warning';
  code: string;
  message: string;
}

const inputs = fs
  .readdirSync(CORPUS_DIR)
  .filter((name) => name.endsWith('.yaml'))
  .sort();

test('the corpus has at least 30 bad inputs, each paired with its expectation', (t) => {
  t.true(inputs.length >= 30, `only ${inputs.length} inputs`);
  const expectations = fs.readdirSync(CORPUS_DIR).filter((name) => name.endsWith('.expect.json'));
  t.deepEqual(
    expectations.map((name) => name.replace(/\.expect\.json$/, '')).sort(),
    inputs.map((name) => name.replace(/\.yaml$/, '')),
  );
});

for (const name of inputs) {
  test(`corpus: ${name}`, async (t) => {
    const file = path.join(CORPUS_DIR, name);
    const expected = JSON.parse(
      fs.readFileSync(file.replace(/\.yaml$/, '.expect.json'), 'utf8'),
    ) as Expected[];
    t.true(expected.length > 0, 'a bad input must expect at least one diagnostic');

    const result = await loadSpecs([file], { allowInsecurePermissions: true });

    const actual = result.diagnostics.map((d) => ({
      at: d.line === undefined ? 'file' : `${d.line}:${d.column}`,
      severity: d.severity,
      code: d.code,
      message: d.message,
    }));
    t.deepEqual(actual, expected);
    t.deepEqual(result.devices, []);
    t.deepEqual(
      result.files.map((f) => [f.file, f.status]),
      [[file, 'invalid']],
    );
  });
}

interface ExpectedDir {
  /** Paths relative to the case directory; "." is the directory itself. */
  diagnostics: (Expected & { file: string })[];
  files: { file: string; status: string; reason?: string }[];
}

const dirCases = fs
  .readdirSync(DIRS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

test('every config dir case is paired with its expectation', (t) => {
  t.true(dirCases.length >= 2, `only ${dirCases.length} cases`);
  const expectations = fs.readdirSync(DIRS_DIR).filter((name) => name.endsWith('.expect.json'));
  t.deepEqual(expectations.map((name) => name.replace(/\.expect\.json$/, '')).sort(), dirCases);
});

for (const name of dirCases) {
  test(`corpus dir: ${name}/`, async (t) => {
    const dir = path.join(DIRS_DIR, name);
    const expected = JSON.parse(fs.readFileSync(`${dir}.expect.json`, 'utf8')) as ExpectedDir;
    const relative = (file: string) => path.relative(dir, file) || '.';

    // As `dm-remap validate DIR` reads a directory given on the command line.
    const result = await loadSpecs([dir], { allowInsecurePermissions: true, noSpecFiles: 'warning' });

    t.deepEqual(
      result.diagnostics.map((d) => ({
        file: relative(d.file),
        at: d.line === undefined ? 'file' : `${d.line}:${d.column}`,
        severity: d.severity,
        code: d.code,
        message: d.message,
      })),
      expected.diagnostics,
    );
    t.deepEqual(
      result.files.map((f) => ({
        file: relative(f.file),
        status: f.status,
        ...(f.reason !== undefined && { reason: f.reason }),
      })),
      expected.files,
    );
  });
}
