/**
 * Types of the device spec. The document shape (RemapDeviceManifest) mirrors
 * schemas/remapdevice.schema.json, which is the source of truth;
 * tests/spec/schema-types.test.ts makes tsc and ava fail if the two drift.
 */
import type { SpecFileCache } from './file-cache.js';

export const API_VERSION = 'dm-remap/v1alpha1';
export const KIND = 'RemapDevice';

export type DeviceState = 'active' | 'absent';
export type RemovalPolicy = 'Retain' | 'Delete';

/** One YAML document as written by the admin, after schema validation (defaults not yet applied). */
export interface RemapDeviceManifest {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    mainDevice: string;
    spareDevice: string;
    blockSize?: number;
    readRetries?: number;
    spareUsageWarningPercent?: number;
    remapRateWarningPerDay?: number;
    state?: DeviceState;
    paused?: boolean;
    removalPolicy?: RemovalPolicy;
    deviceTimeout?: string;
    nofail?: boolean;
  };
}

/** Where something starts in a spec file; line and column are 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** Stable machine-readable identifier (see DiagnosticCode). */
  code: string;
  message: string;
  file: string;
  /** Absent for problems of the file as a whole (size, permissions, I/O). */
  line?: number;
  column?: number;
  /** Device name the problem belongs to, when known. */
  device?: string;
}

/** A validated device with every default applied: what the reconciler acts on. */
export interface DeviceSpec {
  name: string;
  mainDevice: string;
  spareDevice: string;
  blockSizeBytes: number;
  readRetries: number;
  spareUsageWarningPercent: number;
  /** Blocks remapped in 24 hours at which the device is Degraded/RemapRateHigh; absent: no rate warning. */
  remapRateWarningPerDay?: number;
  state: DeviceState;
  paused: boolean;
  removalPolicy: RemovalPolicy;
  /** How long apply waits for the main and spare devices to appear (spec.deviceTimeout). */
  deviceTimeoutMs: number;
  /** Disks that never appeared within deviceTimeoutMs do not fail apply. */
  nofail: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Where the document starts. */
  source: SourceLocation;
}

export type FileStatus = 'valid' | 'invalid' | 'ignored';

export interface FileResult {
  file: string;
  status: FileStatus;
  /** Names declared in the file, best effort even when it is invalid. */
  devices: string[];
  /** Why the file was not read (status 'ignored' only), e.g. "editor or package manager leftover". */
  reason?: string;
}

export interface LoadResult {
  devices: DeviceSpec[];
  diagnostics: Diagnostic[];
  files: FileResult[];
}

export interface LoadOptions {
  /**
   * Report config dirs/files that a non-root user could change as warnings
   * instead of refusing them. Meant for tests, development and for checking
   * a repository before it is deployed; never for the daemon's live config.
   */
  allowInsecurePermissions?: boolean;
  /** Largest spec file read, in bytes (default DEFAULT_MAX_FILE_BYTES). */
  maxFileBytes?: number;
  /**
   * Report a directory in which no spec file was read (empty, or leftovers
   * only) as a warning or an error. Unset: say nothing, for callers to whom
   * an empty config dir is an ordinary state.
   */
  noSpecFiles?: Severity;
  /**
   * What earlier loads read: files whose stat says they did not change are not read again. The
   * daemon keeps one across passes; each load still checks every file's ownership and mode.
   */
  cache?: SpecFileCache;
}
