/** A schema-valid document → the DeviceSpec the reconciler acts on, with every default applied. */
import { SPEC_DEFAULTS } from './schema.js';
import type { DeviceSpec, RemapDeviceManifest, SourceLocation } from './types.js';

export function normalizeManifest(manifest: RemapDeviceManifest, source: SourceLocation): DeviceSpec {
  const { metadata, spec } = manifest;
  return {
    name: metadata.name,
    mainDevice: spec.mainDevice,
    spareDevice: spec.spareDevice,
    blockSizeBytes: spec.blockSize ?? SPEC_DEFAULTS.blockSize,
    readRetries: spec.readRetries ?? SPEC_DEFAULTS.readRetries,
    spareUsageWarningPercent: spec.spareUsageWarningPercent ?? SPEC_DEFAULTS.spareUsageWarningPercent,
    ...(spec.remapRateWarningPerDay !== undefined
      ? { remapRateWarningPerDay: spec.remapRateWarningPerDay }
      : {}),
    state: spec.state ?? SPEC_DEFAULTS.state,
    paused: spec.paused ?? SPEC_DEFAULTS.paused,
    removalPolicy: spec.removalPolicy ?? SPEC_DEFAULTS.removalPolicy,
    deviceTimeoutMs: durationMs(spec.deviceTimeout ?? SPEC_DEFAULTS.deviceTimeout),
    nofail: spec.nofail ?? SPEC_DEFAULTS.nofail,
    labels: { ...metadata.labels },
    annotations: { ...metadata.annotations },
    source,
  };
}

/** The schema's pattern admits only whole numbers of s, m or h. */
function durationMs(text: string): number {
  const unit = { s: 1_000, m: 60_000, h: 3_600_000 }[text.slice(-1)] ?? 1_000;
  return Number(text.slice(0, -1)) * unit;
}
