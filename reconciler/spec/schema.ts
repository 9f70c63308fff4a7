/**
 * The compiled RemapDevice schema. schemas/remapdevice.schema.json is the one
 * source of truth: validation, defaults and the wording of expectations
 * ("x-expected") all come from it.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import schemaJson from '../../schemas/remapdevice.schema.json' with { type: 'json' };
import { validate } from './remapdevice-validator.generated.js';
import type { DeviceState, RemapDeviceManifest, RemovalPolicy } from './types.js';

/**
 * Annotation keyword: how to describe a field's valid values in plain words
 * in error messages. Not a JSON Schema keyword, so ajv is told it exists.
 */
export const EXPECTED_KEYWORD = 'x-expected';

/**
 * The schema compiled ahead of time (scripts/schema-validator-code.ts, at build time): nothing is
 * compiled when the CLI starts. Errors are verbose: each carries the schema of the failing field.
 */
export function schemaValidator(): ValidateFunction<RemapDeviceManifest> {
  return validate as ValidateFunction<RemapDeviceManifest>;
}

export type SchemaError = ErrorObject;

export interface SpecDefaults {
  blockSize: number;
  readRetries: number;
  spareUsageWarningPercent: number;
  state: DeviceState;
  paused: boolean;
  removalPolicy: RemovalPolicy;
  deviceTimeout: string;
  nofail: boolean;
}

/** Defaults of the optional spec fields, read from the schema so they cannot disagree with it. */
export const SPEC_DEFAULTS: SpecDefaults = (() => {
  const fields = schemaJson.properties.spec.properties;
  return {
    blockSize: fields.blockSize.default,
    readRetries: fields.readRetries.default,
    spareUsageWarningPercent: fields.spareUsageWarningPercent.default,
    state: fields.state.default as DeviceState,
    paused: fields.paused.default,
    removalPolicy: fields.removalPolicy.default as RemovalPolicy,
    deviceTimeout: fields.deviceTimeout.default,
    nofail: fields.nofail.default,
  };
})();
