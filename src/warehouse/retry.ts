/**
 * The one retry loop of the warehouse adapters: a call tried again on retryable failures, with
 * exponential backoff (base, 2x, 4x, ... up to a cap, optionally jittered), a number of retries
 * and an optional deadline. What is retryable, and what a final failure becomes, stays with each
 * adapter (its errors file).
 */
export interface RetryPolicy {
  /** retries after the first attempt */
  retries: number;
  baseMs: number;
  capMs: number;
  /** wait a random time between half and all of the backoff (spreads clients retrying at once) */
  jitter?: boolean;
  /** no retry whose wait would end later than this many ms after the first attempt */
  deadlineMs?: number;
  retryable(e: unknown): boolean;
}

/** The last failure of a call and how many attempts were made. */
export class RetriesExhausted extends Error {
  constructor(
    readonly last: unknown,
    readonly attempts: number,
  ) {
    super(`failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${(last as Error)?.message ?? String(last)}`);
  }
}

export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const ms = Math.min(policy.baseMs * 2 ** attempt, policy.capMs);
  return policy.jitter ? ms / 2 + Math.random() * (ms / 2) : ms;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs `call(attempt)` (attempt 0 first) until it succeeds or a failure is not to be retried;
 * then throws RetriesExhausted with that failure. `onRetry` runs before each wait.
 */
export async function retrying<T>(policy: RetryPolicy, call: (attempt: number) => Promise<T>, onRetry?: (e: unknown, attempt: number) => void): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(attempt);
    } catch (e) {
      const wait = backoffMs(policy, attempt);
      const late = policy.deadlineMs !== undefined && Date.now() - started + wait > policy.deadlineMs;
      if (attempt >= policy.retries || late || !policy.retryable(e)) throw new RetriesExhausted(e, attempt + 1);
      onRetry?.(e, attempt);
      await sleep(wait);
    }
  }
}
