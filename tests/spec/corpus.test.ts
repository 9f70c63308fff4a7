/**
 * Data-driven: every tests/corpus/bad/NAME.yaml must produce exactly the
 * diagnostics listed in NAME.expect.json, and no device.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { loadSpecs } from '../../reconciler/spec/index.js';

// Relative to the project root (ava's working directory), as messages quote file paths as given.
const CORPUS_DIR = path.join('tests', 'corpus', 'bad');

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
