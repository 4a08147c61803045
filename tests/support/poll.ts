/**
 * Waiting for something that happens a moment later (a worker's progress, visibility catching up,
 * a mail arriving): the one way tests and `scripts/record-histories.ts` poll. No vitest here, so
 * the script can use it too.
 */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface PollOptions {
  /** How long to keep trying before failing (ms). Default 30 s. */
  timeoutMs?: number;
  /** The pause between tries (ms). Default 100. */
  everyMs?: number;
  /** Why it can no longer happen (the process that was to do it has exited), which fails at once; undefined while it still can. */
  failIf?: () => string | undefined;
}

/**
 * Reads `read` until `done` holds of what it gave, and returns that; fails naming `what` and the
 * last value read when the time passes. A read that throws fails at once.
 */
export async function until<T, U extends T>(read: () => T | Promise<T>, done: (value: T) => value is U, what: string, options?: PollOptions): Promise<U>;
export async function until<T>(read: () => T | Promise<T>, done: (value: T) => boolean, what: string, options?: PollOptions): Promise<T>;
export async function until<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  what: string,
  { timeoutMs = 30_000, everyMs = 100, failIf }: PollOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    const reason = failIf?.();
    if (reason !== undefined) throw new Error(`${what} will not happen: ${reason}`);
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s; last: ${describe(value)}`);
    await sleep(everyMs);
  }
}

/** Reads `find` until it gives something (a mail, a delivery, an id in some output) and returns that; fails naming `what`. */
export async function eventually<T>(find: () => T | undefined | Promise<T | undefined>, what: string, options: PollOptions = {}): Promise<T> {
  return (await until(find, (value) => value !== undefined, what, options)) as T;
}

function describe(value: unknown): string {
  return (JSON.stringify(value, null, 2) ?? String(value)).slice(0, 2000);
}
