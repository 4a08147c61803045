import { ServiceError } from './errors.js';

/**
 * At most `perMinute` actions per user in any sliding minute. Cheap to refuse: a refused request
 * costs a timestamp comparison, never a Temporal call. Remembers at most `users` people.
 */
export class RateLimiter {
  private readonly recent = new Map<string, number[]>();

  constructor(
    readonly perMinute: number,
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

/**
 * At most `limit` at once per person. The slot is taken synchronously, before anything is awaited,
 * so a burst sent all at once cannot slip past the count; it is given back once, when the request
 * ends however it ends.
 */
export class ConcurrencyLimit {
  private readonly held = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** A slot for `key` and the function that gives it back, or undefined when all are held. */
  take(key: string): (() => void) | undefined {
    const now = this.held.get(key) ?? 0;
    if (now >= this.limit) return undefined;
    this.held.set(key, now + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.held.get(key) ?? 1) - 1;
      if (left > 0) this.held.set(key, left);
      else this.held.delete(key);
    };
  }
}

/** How much one person (or, before sign-in, one address) may ask of Interlock; each has an environment variable. */
export interface LimitSettings {
  /** Deployments and releases started, and Keptn events posted, per minute (`INTERLOCK_TRIGGER_RATE`). */
  triggersPerMinute: number;
  /** Take, proceed, abort, retry, ignore, fail and cancel, per minute (`INTERLOCK_ACTION_RATE`). */
  actionsPerMinute: number;
  /** Event streams open at once (`INTERLOCK_STREAMS_PER_PERSON`). */
  streamsAtOnce: number;
  /** `…/wait` requests held at once (`INTERLOCK_WAITS_PER_PERSON`). */
  waitsAtOnce: number;
  /** One-click links opened per minute, per person or, before sign-in, per client address (`INTERLOCK_LINK_RATE`). */
  linksPerMinute: number;
  /** Audit records sent to the channels per minute, by this API process as a whole (`INTERLOCK_AUDIT_RATE`); the log has them all. */
  auditEventsPerMinute: number;
}

/**
 * The defaults. A CI pipeline that triggers a release of forty services to three environments at
 * once stays under the trigger rate, and one that follows as many with `interlock wait` under the
 * wait cap; a loop does not.
 */
export const DEFAULT_LIMITS: LimitSettings = {
  triggersPerMinute: 120,
  actionsPerMinute: 30,
  streamsAtOnce: 20,
  waitsAtOnce: 50,
  linksPerMinute: 60,
  auditEventsPerMinute: 600,
};

const limited = (detail: string, retryAfter: number) => new ServiceError('RATE_LIMITED', detail, { retryAfter });

/**
 * The per-person limits of everything that starts work, posts events, opens a stream or holds a
 * request: the JSON API, the Keptn event API and the dashboard share one instance, so a person's
 * budget is the same whichever way they come. Each refusal is RATE_LIMITED (429 with Retry-After),
 * decided without a Temporal call, and changes nothing.
 */
export class Limits {
  readonly settings: LimitSettings;
  private readonly triggers: RateLimiter;
  private readonly actions: RateLimiter;
  private readonly links: RateLimiter;
  private readonly streams: ConcurrencyLimit;
  private readonly waits: ConcurrencyLimit;

  constructor(settings: { [K in keyof LimitSettings]?: number | undefined } = {}) {
    const given = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
    this.settings = { ...DEFAULT_LIMITS, ...given };
    this.triggers = new RateLimiter(this.settings.triggersPerMinute);
    this.actions = new RateLimiter(this.settings.actionsPerMinute);
    this.links = new RateLimiter(this.settings.linksPerMinute);
    this.streams = new ConcurrencyLimit(this.settings.streamsAtOnce);
    this.waits = new ConcurrencyLimit(this.settings.waitsAtOnce);
  }

  /** Before a deployment or release is started, or a Keptn event is taken. */
  trigger(person: string): void {
    const wait = this.triggers.take(person);
    if (wait === undefined) return;
    throw limited(`More than ${this.triggers.perMinute} deployments, releases and events in a minute; nothing was started. Try again in ${wait} s.`, wait);
  }

  /** Before an action on an interruption, or a cancel. */
  action(person: string): void {
    const wait = this.actions.take(person);
    if (wait === undefined) return;
    throw limited(`More than ${this.actions.perMinute} actions in a minute; nothing was done. Try again in ${wait} s.`, wait);
  }

  /** Before a one-click link is read: `who` is the person, or the client's address before sign-in. */
  link(who: string): void {
    const wait = this.links.take(who);
    if (wait === undefined) return;
    throw limited(`More than ${this.links.perMinute} decision links opened in a minute; try again in ${wait} s.`, wait);
  }

  /** A slot for an event stream, to give back when it closes. */
  stream(person: string): () => void {
    const release = this.streams.take(person);
    if (release) return release;
    throw limited(`At most ${this.streams.limit} event streams at once per person; close one first.`, 5);
  }

  /** A slot for a held `…/wait`, to give back when it answers or its caller goes away. */
  wait(person: string): () => void {
    const release = this.waits.take(person);
    if (release) return release;
    throw limited(`At most ${this.waits.limit} waits at once per person; let one end first, or poll less often.`, 5);
  }
}
