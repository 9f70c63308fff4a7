/**
 * Layer 3, within one document: rules on meaning that the schema cannot
 * express. Pure; each rule returns its diagnostics.
 */
import { DiagnosticCode } from './diagnostics.js';
import { deviceNameProblem, isUnstableDevicePath } from './device-names.js';
import type { DeviceSpec, Diagnostic } from './types.js';
import type { Position } from './yaml-source.js';

/** Where the fields that rules talk about are written. */
export interface FieldPositions {
  name: Position;
  mainDevice: Position;
  spareDevice: Position;
}

export interface RuleContext {
  file: string;
  spec: DeviceSpec;
  at: FieldPositions;
}

type DocumentRule = (context: RuleContext) => Diagnostic[];

/**
 * The schema counts characters, device-mapper counts bytes. Today the
 * schema's pattern allows ASCII only, where the two agree, so this rule only
 * fires if the schema is ever widened: the byte limit must still hold then.
 */
const nameFitsDeviceMapper: DocumentRule = ({ file, spec, at }) => {
  const problem = deviceNameProblem(spec.name);
  if (problem === undefined) return [];
  return [
    {
      severity: 'error',
      code: DiagnosticCode.invalidName,
      message: `metadata.name ${problem}`,
      file,
      ...at.name,
      device: spec.name,
    },
  ];
};

const stableDevicePaths: DocumentRule = ({ file, spec, at }) =>
  (['mainDevice', 'spareDevice'] as const)
    .filter((field) => isUnstableDevicePath(spec[field]))
    .map((field) => ({
      severity: 'warning',
      code: DiagnosticCode.unstableDevicePath,
      message:
        `spec.${field} ${spec[field]} is a kernel name that can point at another disk after a reboot; ` +
        'use a stable link such as /dev/disk/by-id/...',
      file,
      ...at[field],
      device: spec.name,
    }));

const DOCUMENT_RULES: readonly DocumentRule[] = [nameFitsDeviceMapper, stableDevicePaths];

export function documentDiagnostics(context: RuleContext): Diagnostic[] {
  return DOCUMENT_RULES.flatMap((rule) => rule(context));
}
