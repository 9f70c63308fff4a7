/** The validator compiled ahead of time is the one schemas/remapdevice.schema.json gives today. */
import fs from 'node:fs';
import test from 'ava';
import { schemaValidatorSource, VALIDATOR_MODULE } from '../../scripts/schema-validator-code.js';

test('the committed schema validator is generated from the current schema (npm run build rewrites it)', async (t) => {
  t.is(fs.readFileSync(VALIDATOR_MODULE, 'utf8'), await schemaValidatorSource('.'));
});
