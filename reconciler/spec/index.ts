/**
 * The device spec library: reads RemapDevice documents from spec files and
 * directories, validates them in three layers (YAML, schema, meaning) and
 * returns normalized devices plus positioned diagnostics.
 */
export type {
  DeviceSpec,
  DeviceState,
  Diagnostic,
  FileResult,
  FileStatus,
  LoadOptions,
  LoadResult,
  RemapDeviceManifest,
  RemovalPolicy,
  Severity,
  SourceLocation,
} from './types.js';
export { API_VERSION, KIND } from './types.js';
export { DiagnosticCode, formatDiagnostic, isError, isIoDiagnostic } from './diagnostics.js';
export { CONFIG_DIR_ENV, DEFAULT_CONFIG_DIR, defaultConfigDir } from './config-dir.js';
export { DEFAULT_MAX_FILE_BYTES, loadSpecs } from './loader.js';
export { validateText } from './validate-text.js';
export type { CheckedDocument, TextValidation } from './validate-text.js';
export { checkAcrossSpecs, normalizedPathIdentity } from './cross-spec-rules.js';
export type { CrossSpecResult, DeviceIdentityOf } from './cross-spec-rules.js';
export { decodeSpecBytes } from './decode.js';
export { classifyEntryName } from './file-names.js';
