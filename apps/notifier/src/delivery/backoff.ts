/**
 * When to try a failed delivery again: exponential backoff with jitter. The n-th retry waits
 * base * 2^(n-1), capped at `max`, of which a random half ("equal jitter"): receivers that
 * failed together (an outage) are not hit again all at the same moment, and no retry comes
 * sooner than half its step.
 */
export function retryDelayMs(
  attemptsMade: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attemptsMade - 1, 0), 40));
  return Math.round(step / 2 + random() * (step / 2));
}

/** What follows a failed attempt: another one at `retryAt`, or none (the window is over). */
export function afterFailure(
  attemptsMade: number,
  firstRecordedAt: Date,
  now: Date,
  policy: { readonly baseMs: number; readonly maxMs: number; readonly retryForMs: number },
  random?: () => number,
): { readonly retryAt: Date } | { readonly failed: true } {
  if (now.getTime() - firstRecordedAt.getTime() >= policy.retryForMs) return { failed: true };
  const delay = retryDelayMs(attemptsMade, policy.baseMs, policy.maxMs, random);
  return { retryAt: new Date(now.getTime() + delay) };
}
