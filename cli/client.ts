import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

/** The process exit codes of every command; `interlock --help` documents them. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An RFC 9457 problem as the API renders it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code?: string;
  errors?: { name: string; reason: string }[];
}

/** Anything that ends a command early: one line for a person, the exit code for a script. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly problem?: Problem,
    /** A mistake on the command line: the command's help follows the message. */
    readonly showHelp = false,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage, undefined, true);

export interface Response<T> {
  status: number;
  body: T;
}

/**
 * A small JSON client of the Interlock API over node:http, not fetch: fetch refuses some ports
 * outright ("bad port") and hides the connection error's code, which the one-line message needs.
 */
export class Client {
  readonly baseUrl: string;

  constructor(baseUrl: string, private readonly token: string | undefined) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** Absolute form of a path the API returns, such as `links.self`. */
  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  get<T>(path: string, options: RequestOptions = {}): Promise<Response<T>> {
    return this.request<T>('GET', path, undefined, options);
  }

  post<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<Response<T>> {
    return this.request<T>('POST', path, body, options);
  }

  /**
   * Resolves with a 2xx answer. A 4xx becomes a CliError carrying the problem (exit 1, or 2 for a
   * 400: the command line has to change); a 5xx, a connection error or no answer in time exit 3.
   */
  async request<T>(method: string, path: string, body: unknown, options: RequestOptions = {}): Promise<Response<T>> {
    if (!this.token) {
      throw new CliError('INTERLOCK_TOKEN is not set; export your Interlock token (an admin makes one with `npm run token -- <username>`).', EXIT.usage);
    }
    const headers = {
      Accept: 'application/json, application/problem+json',
      Authorization: `Bearer ${this.token}`,
      'User-Agent': 'interlock-cli',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...options.headers,
    };
    let raw = await send(new URL(this.url(path)), method, headers, body === undefined ? undefined : JSON.stringify(body), options.timeoutMs ?? 30_000, this.baseUrl);
    // A read refused for the moment (too many waits or streams at once for one token, as a pipeline
    // that waits on many deployments meets it) is asked again when the server says; a write is not.
    for (let retries = 0; raw.status === 429 && method === 'GET' && retries < READ_RETRIES; retries++) {
      await sleep(Math.min(Number(raw.retryAfter) || 1, 30) * 1000);
      raw = await send(new URL(this.url(path)), method, headers, undefined, options.timeoutMs ?? 30_000, this.baseUrl);
    }

    let parsed: unknown;
    try {
      parsed = raw.text ? JSON.parse(raw.text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (raw.status >= 200 && raw.status < 300 && parsed !== undefined) return { status: raw.status, body: parsed as T };
    if (!isProblem(parsed)) {
      const what = raw.contentType ? raw.contentType.split(';')[0] : 'no content type';
      throw new CliError(
        `${this.baseUrl} answered ${raw.status} with ${what}, not Interlock's API; check INTERLOCK_URL.`,
        raw.status >= 500 ? EXIT.unreachable : EXIT.failed,
      );
    }
    const exitCode = raw.status >= 500 ? EXIT.unreachable : raw.status === 400 ? EXIT.usage : EXIT.failed;
    throw new CliError(`${parsed.status} ${parsed.title}: ${parsed.detail}`, exitCode, parsed);
  }
}

export interface RequestOptions {
  headers?: Record<string, string>;
  timeoutMs?: number;
}

function isProblem(value: unknown): value is Problem {
  const problem = value as Partial<Problem> | undefined;
  return typeof problem?.status === 'number' && typeof problem.title === 'string' && typeof problem.detail === 'string';
}

interface RawResponse {
  status: number;
  contentType: string | undefined;
  retryAfter: string | undefined;
  text: string;
}

/** How often a read refused with 429 is asked again before the refusal is the answer. */
const READ_RETRIES = 10;

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
  baseUrl: string,
): Promise<RawResponse> {
  const transport = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
  if (!transport) return Promise.reject(new CliError(`INTERLOCK_URL must start with http:// or https://, not "${baseUrl}".`, EXIT.usage));
  return new Promise((resolve, reject) => {
    const unreachable = (reason: string) =>
      reject(new CliError(`cannot reach ${baseUrl} (${reason}); check INTERLOCK_URL and that Interlock is running.`, EXIT.unreachable));
    const request = transport.request(url, { method, headers, timeout: timeoutMs }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'], retryAfter: response.headers['retry-after'], text }));
      response.on('error', (error) => unreachable(describeNetworkError(error)));
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    request.on('error', (error) => unreachable(describeNetworkError(error, timeoutMs)));
    request.end(body);
  });
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate cannot be verified',
};

function describeNetworkError(error: Error, timeoutMs?: number): string {
  // With several addresses (localhost: ::1 and 127.0.0.1) node reports an AggregateError of each attempt.
  const errors = error instanceof AggregateError ? (error.errors as Error[]) : [error];
  const code = errors.map((e) => (e as NodeJS.ErrnoException).code).find(Boolean);
  if (code === 'ETIMEDOUT') return timeoutMs ? `no answer within ${Math.round(timeoutMs / 1000)} s` : 'timed out';
  return (code && REASONS[code]) ?? (code ? `${code}: ${errors[0]!.message}` : errors[0]!.message);
}
