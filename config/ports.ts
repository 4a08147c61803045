import { createServer } from 'node:net';
import type { Env } from './env.js';

/** A port an Interlock process listens on: where, what for, and the variable that moves it. */
export interface Listener {
  port: number;
  host: string;
  /** What would listen there, as a person reads it: "the API and dashboard". */
  what: string;
  variable: string;
  /** Another way out, said after the variable: "(0 turns them off)". */
  otherwise?: string;
}

/** Every port `npm start`, `npm run api` and `npm run worker` may listen on, from the environment; `apiHost` is where the API binds. */
export function listenersOf(env: Env, apiHost = env.HOST ?? '0.0.0.0') {
  return {
    api: { port: env.PORT, host: apiHost, what: 'the API and dashboard', variable: 'PORT' },
    workerMetrics: {
      port: env.INTERLOCK_WORKER_METRICS_PORT,
      host: env.INTERLOCK_METRICS_HOST,
      what: "the worker's metrics",
      variable: 'INTERLOCK_WORKER_METRICS_PORT',
      otherwise: '(0 turns them off)',
    },
    devServer: { port: env.TEMPORAL_DEV_PORT, host: '127.0.0.1', what: 'the Temporal dev server', variable: 'TEMPORAL_DEV_PORT' },
    temporalWeb: { port: env.TEMPORAL_UI_PORT, host: '127.0.0.1', what: 'Temporal Web', variable: 'TEMPORAL_UI_PORT' },
  } satisfies Record<string, Listener>;
}

/** The one line that says a port is taken: which, what wanted it, and the variable to set. */
export const portTaken = ({ port, host, what, variable, otherwise }: Listener) =>
  `Port ${port} is taken (on ${host}), so ${what} cannot listen there: set ${variable} to a free port${otherwise ? ` ${otherwise}` : ''}, or stop what holds it.`;

/** Whether something else listens on the port now (a moment later it may differ: the real bind still says). */
export function isTaken({ port, host }: Pick<Listener, 'port' | 'host'>): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE'));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** The lines of every listener whose port is taken; none when all are free. */
export async function takenPorts(listeners: Listener[]): Promise<string[]> {
  const taken = await Promise.all(listeners.map(async (listener) => ((await isTaken(listener)) ? [portTaken(listener)] : [])));
  return taken.flat();
}

/** A bind that failed because the port is taken (Node's EADDRINUSE, or the worker runtime's "Address already in use"). */
export const isAddressInUse = (error: unknown) =>
  (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE' || /address already in use/i.test(error instanceof Error ? error.message : String(error));
