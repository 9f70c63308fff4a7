/**
 * The compiled RemapDevice schema. schemas/remapdevice.schema.json is the one
 * source of truth: validation, defaults and the wording of expectations
 * ("x-expected") all come from it.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import schemaJson from '../../schemas/remapdevice.schema.json' with { type: 'json' };
import type { DeviceState, RemapDeviceManifest, RemovalPolicy } from './types.js';

/**
 * Annotation keyword: how to describe a field's valid values in plain words
 * in error messages. Not a JSON Schema keyword, so ajv is told it exists.
 */
export const EXPECTED_KEYWORD = 'x-expected';

let compiled: ValidateFunction<RemapDeviceManifest> | undefined;

/** Compiled lazily once: compiling costs a few milliseconds that a --help should not pay. */
export function schemaValidator(): ValidateFunction<RemapDeviceManifest> {
  if (compiled === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true });
    ajv.addKeyword({ keyword: EXPECTED_KEYWORD, schemaType: 'string' });
    compiled = ajv.compile<RemapDeviceManifest>(schemaJson);
  }
  return compiled;
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
