/**
 * How a plan reads to an operator (`dm-remap plan`, like `terraform plan`):
 * one block per device that has something to say, each operation on its own
 * line with a marker, the verb and the reason, then a one-line summary.
 */
import type { DevicePlan, Operation, OperationKind, Plan } from './plan.js';

const MARKERS: Record<OperationKind, string> = {
  loadModule: '+',
  create: '+',
  completeCreate: '+',
  reload: '~',
  resume: '~',
  clearInactive: '~',
  remove: '-',
  rollbackCreate: '-',
  refuse: '!',
  blocked: '!',
  wait: '!',
  hold: '=',
  skip: '=',
  orphan: '=',
};

const VERB_WIDTH = 15;

export function formatOperation(operation: Operation): string[] {
  const lines = [`  ${MARKERS[operation.kind]} ${operation.kind.padEnd(VERB_WIDTH)}${operation.reason}`];
  if ('table' in operation) lines.push(`    ${' '.repeat(VERB_WIDTH)}table: ${operation.table.table}`);
  if ('warning' in operation && operation.warning !== undefined) {
    lines.push(`    ${' '.repeat(VERB_WIDTH)}warning: ${operation.warning}`);
  }
  return lines;
}

function formatDevice(device: DevicePlan): string[] {
  return [`${device.name}:`, ...device.operations.flatMap(formatOperation)];
}

export function summarizePlan(plan: Plan): string {
  const counts = new Map<OperationKind, number>();
  for (const operation of plan.devices.flatMap((device) => device.operations)) {
    counts.set(operation.kind, (counts.get(operation.kind) ?? 0) + 1);
  }
  if (counts.size === 0) return 'No changes. The kernel matches the specs.';
  const parts = [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${n} ${kind}`);
  return `Plan: ${parts.join(', ')}.`;
}

export function formatPlan(plan: Plan): string {
  const blocks = plan.devices.filter((device) => device.operations.length > 0).map(formatDevice);
  return [...blocks.map((block) => block.join('\n')), summarizePlan(plan)].join('\n\n') + '\n';
}
