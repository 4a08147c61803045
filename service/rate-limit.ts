/**
 * At most `perMinute` actions per user in any sliding minute. Cheap to refuse: a refused request
 * costs a timestamp comparison, never a Temporal call. Remembers at most `users` people.
 */
export class RateLimiter {
  private readonly recent = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly users = 100_000,
  ) {}

  /** Counts an attempt; undefined when allowed, else the seconds until the next one would be. */
  take(user: string, now = Date.now()): number | undefined {
    const since = now - 60_000;
    const times = (this.recent.get(user) ?? []).filter((at) => at > since);
    if (times.length >= this.perMinute) {
      this.recent.set(user, times);
      return Math.max(1, Math.ceil((times[0]! - since) / 1000));
    }
    times.push(now);
    this.recent.delete(user);
    if (this.recent.size >= this.users) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(user, times);
    return undefined;
  }
}
