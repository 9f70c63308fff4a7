/** Writes the ahead-of-time schema validator (see schema-validator-code.ts), only if its text changed. */
import fs from 'node:fs';
import path from 'node:path';
import { schemaValidatorSource, VALIDATOR_MODULE } from './schema-validator-code.js';

const root = path.resolve(import.meta.dirname, '..');
const target = path.join(root, VALIDATOR_MODULE);
const source = await schemaValidatorSource(root);
const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
if (current !== source) fs.writeFileSync(target, source);
