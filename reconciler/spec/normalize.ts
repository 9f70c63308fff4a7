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
    labels: { ...metadata.labels },
    annotations: { ...metadata.annotations },
    source,
  };
}
