import { createHash } from 'node:crypto';
import { type DeploymentStatus, isFinished } from '../core/names.js';
import type { DeploymentWithLinks } from './deployments.js';
import { ServiceError, unavailable } from './errors.js';

/** Anything with a status that ends: a deployment's view, a release's. */
export type Watched = { status: DeploymentStatus };

export interface Snapshot<V extends Watched = DeploymentWithLinks> {
  view: V;
  /** Changes whenever the view does: the SSE event id. */
  version: string;
  finished: boolean;
}

export type Listener<V extends Watched = DeploymentWithLinks> = { onView(snapshot: Snapshot<V>): void; onError(error: unknown): void };

/** What a watcher reads: the view, and Temporal's long poll on the workflow's end (with the final view when its result holds it). */
export interface Readable<V extends Watched> {
  get(id: string): Promise<V>;
  longPollForEnd(id: string, signal: AbortSignal): Promise<V | undefined>;
}

interface Watch<V extends Watched> {
  listeners: Set<Listener<V>>;
  latest?: Snapshot<V>;
  timer?: NodeJS.Timeout;
  /** Settles when the workflow closes: Temporal's long poll, so the end is seen at once. */
  closed?: Promise<unknown>;
  /** The final view the long poll brought: the last read needs no round trip. */
  final?: V;
  stopLongPoll?: AbortController;
  wake?: () => void;
}

export const snapshotOf = <V extends Watched>(view: V): Snapshot<V> => ({
  view,
  version: createHash('sha256').update(JSON.stringify(view)).digest('base64url').slice(0, 16),
  finished: isFinished(view.status),
});

/**
 * One reader per watched deployment (or release), however many clients wait on it or stream its
 * events: the cost to Temporal grows with what is being watched, never with the clients watching.
 * It reads the view twice a second, and at once when Temporal's long poll says the workflow closed.
 */
export class Watcher<V extends Watched = DeploymentWithLinks> {
  private readonly watches = new Map<string, Watch<V>>();

  constructor(
    private readonly reader: Readable<V>,
    private readonly intervalMs = 500,
  ) {}

  /** The current view, read at once. */
  read(id: string): Promise<V> {
    return this.reader.get(id);
  }

  /**
   * Calls `onView` with the current view at once and on every change; returns the unsubscribe.
   * `seen`, a view just read, starts a new watch without reading it again: every read is a query
   * the workflow's worker must answer between the deployment's own tasks.
   */
  subscribe(id: string, listener: Listener<V>, seen?: Snapshot<V>): () => void {
    let watch = this.watches.get(id);
    if (!watch) {
      watch = { listeners: new Set(), ...(seen ? { latest: seen } : {}) };
      this.watches.set(id, watch);
      this.poll(id, watch);
    } else if (watch.latest) {
      listener.onView(watch.latest);
    }
    watch.listeners.add(listener);
    return () => {
      watch.listeners.delete(listener);
      if (watch.listeners.size === 0 && this.watches.get(id) === watch) {
        clearTimeout(watch.timer);
        this.watches.delete(id);
        watch.stopLongPoll?.abort();
        watch.wake?.();
      }
    };
  }

  /**
   * Resolves with the view once finished, or with the latest view (at worst `seen`) when `timeoutMs`
   * passes or `signal` aborts (the caller went away: the watch need not go on for nobody).
   */
  waitForEnd(id: string, timeoutMs: number, seen?: Snapshot<V>, signal?: AbortSignal): Promise<Snapshot<V>> {
    return new Promise((resolve, reject) => {
      let latest: Snapshot<V> | undefined = seen;
      const finish = (done: () => void) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', stop);
        unsubscribe();
        done();
      };
      const stop = () => {
        if (latest) finish(() => resolve(latest!));
        else finish(() => reject(unavailable('Could not read the deployment in time; try again.')));
      };
      const timer = setTimeout(stop, signal?.aborted ? 0 : timeoutMs);
      signal?.addEventListener('abort', stop, { once: true });
      const unsubscribe = this.subscribe(id, {
        onView: (snapshot) => {
          latest = snapshot;
          if (snapshot.finished) finish(() => resolve(snapshot));
        },
        onError: (error) => finish(() => reject(error)),
      }, seen);
    });
  }

  private poll(id: string, watch: Watch<V>): void {
    const tick = async () => {
      try {
        const snapshot = snapshotOf(watch.final ?? (await this.reader.get(id)));
        if (this.watches.get(id) !== watch) return;
        if (snapshot.version !== watch.latest?.version) {
          watch.latest = snapshot;
          for (const listener of [...watch.listeners]) listener.onView(snapshot);
        }
        if (snapshot.finished) return this.end(id, watch);
      } catch (error) {
        // No worker for a moment (503) is worth waiting out; anything else ends the watch.
        if (!(error instanceof ServiceError && error.status === 503)) {
          for (const listener of [...watch.listeners]) listener.onError(error);
          return this.end(id, watch);
        }
      }
      await next();
    };
    /** Until the next read: the interval, or the workflow's end (the long poll), whichever comes first. */
    const pause = async () => {
      if (this.watches.get(id) !== watch) return;
      await new Promise<void>((resolve) => {
        watch.wake = resolve;
        watch.timer = setTimeout(resolve, this.intervalMs);
        // Once only: if the long poll ended for another reason, the timer carries on alone.
        void watch.closed?.finally(() => {
          watch.closed = undefined;
          resolve();
        });
      });
      clearTimeout(watch.timer);
    };
    const next = async () => {
      await pause();
      if (this.watches.get(id) === watch) void tick();
    };
    watch.stopLongPoll = new AbortController();
    watch.closed = this.reader.longPollForEnd(id, watch.stopLongPoll.signal).then((view) => {
      if (view) watch.final = view;
    });
    // A watch seeded with a view just read (subscribe's `seen`) waits for the first change before
    // reading again.
    void (watch.latest ? next() : tick());
  }

  private end(id: string, watch: Watch<V>): void {
    watch.stopLongPoll?.abort();
    if (this.watches.get(id) === watch) this.watches.delete(id);
  }
}
