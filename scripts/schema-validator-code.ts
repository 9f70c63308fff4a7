/**
 * The RemapDevice validator as source code: ajv compiles
 * schemas/remapdevice.schema.json (the one source of truth) ahead of time,
 * so the CLI compiles no schema when it starts. `npm run build` writes it to
 * VALIDATOR_MODULE; a test fails when the committed copy is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';
import * as prettier from 'prettier';

export const SCHEMA_FILE = 'schemas/remapdevice.schema.json';
export const VALIDATOR_MODULE = 'reconciler/spec/remapdevice-validator.generated.ts';

/** Annotation keyword naming a field's valid values in words; ajv is told it exists (schema.ts reads it). */
const EXPECTED_KEYWORD = 'x-expected';

/** The module's text, for the project at `root`. */
export async function schemaValidatorSource(root: string): Promise<string> {
  const schema = JSON.parse(fs.readFileSync(path.join(root, SCHEMA_FILE), 'utf8')) as object;
  // verbose: errors carry the schema of the failing field, where the messages find x-expected.
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    verbose: true,
    code: { source: true, esm: true },
  });
  ajv.addKeyword({ keyword: EXPECTED_KEYWORD, schemaType: 'string' });
  const code = standaloneCode.default(ajv, ajv.compile(schema));
  // ajv's ESM output still require()s its runtime helpers: an import works in an ES module and a bundle.
  let helpers = 0;
  const esm = code.replace(
    /const (\w+) = require\("([^"]+)"\)\.default;/g,
    (_: string, name: string, from: string) => {
      helpers += 1;
      return `import helper${helpers} from "${from}.js";\nconst ${name} = helper${helpers}.default;`;
    },
  );
  if (esm.includes('require('))
    throw new Error('ajv standalone code has a require() this script does not rewrite');
  const header = [
    `// Generated from ${SCHEMA_FILE} by scripts/generate-schema-validator.ts (npm run build). Do not edit.`,
    '/* eslint-disable */',
    '// @ts-nocheck',
    '',
  ].join('\n');
  const options = (await prettier.resolveConfig(path.join(root, VALIDATOR_MODULE))) ?? {};
  return prettier.format(header + esm, { ...options, parser: 'typescript' });
}
