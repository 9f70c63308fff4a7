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
