import type { SourceLocation } from './types.js';

/** "file:line:col", the form editors and terminals turn into links. */
export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}
