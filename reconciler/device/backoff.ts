/**
 * Per-device retry delays: exponential from `baseMs`, capped at `maxMs`, so a
 * device whose backing disk is flapping is retried quickly at first and then
 * left alone without ever being given up on.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DAEMON_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 300_000 };

/** Delay before the retry that follows the `failures`-th consecutive failure (1-based). */
export function retryDelayMs(failures: number, policy: BackoffPolicy): number {
  const exponent = Math.max(0, failures - 1);
  // Cap the exponent first: 2 ** 1100 is Infinity, and the policy's max is the point anyway.
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(exponent, 40));
}
