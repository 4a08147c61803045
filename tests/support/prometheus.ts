import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../temporal/dev-server.js';
import { until } from './poll.js';
import { installedCommand } from './processes.js';

/** Where Debian's `prometheus` is, installed by scripts/install-prometheus.sh when missing; or why there is none. */
export const findPrometheus = (): { path: string } | { missing: string } => installedCommand('prometheus', 'install-prometheus.sh');

export interface TestPrometheus {
  /** The server's base URL, as an SLI source names it (`http://127.0.0.1:port`). */
  url: string;
  /** Sets what the scraped target exposes: a gauge, one series per label set. */
  set(metric: string, value: number, labels?: Record<string, string>): void;
  /** Waits until `query` (an instant query) gives `value` in its first sample: the next scrape has been stored. */
  waitFor(query: string, value: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Prometheus on a free local port, scraping every second a target served here whose gauges
 * the test sets. Resolves once the first scrape is queryable. `stop()` kills it and removes its data.
 */
export async function startPrometheus(binary: string): Promise<TestPrometheus> {
  const series = new Map<string, { metric: string; labels: Record<string, string>; value: number }>();
  const target: Server = createServer((request, response) => {
    const metrics = new Map<string, string[]>();
    for (const { metric, labels, value } of series.values()) {
      const set = Object.entries(labels).map(([key, v]) => `${key}="${v.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`);
      metrics.set(metric, [...(metrics.get(metric) ?? []), `${metric}${set.length ? `{${set.join(',')}}` : ''} ${value}`]);
    }
    const body = [...metrics].map(([metric, lines]) => `# TYPE ${metric} gauge\n${lines.join('\n')}\n`).join('');
    response.writeHead(request.url === '/metrics' ? 200 : 404, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const targetPort = (target.address() as { port: number }).port;
  series.set('interlock_test_up', { metric: 'interlock_test_up', labels: {}, value: 1 });

  const dir = mkdtempSync(join(tmpdir(), 'interlock-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: interlock-test
    static_configs:
      - targets: ['127.0.0.1:${targetPort}']
`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output = (output + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    await new Promise((resolve) => target.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  };

  const firstValue = async (query: string): Promise<number | undefined> => {
    try {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
      const answer = (await response.json()) as { data?: { resultType: string; result: { value: [number, string] }[] | [number, string] } };
      const result = answer.data?.result;
      if (answer.data?.resultType === 'scalar') return Number((result as [number, string])[1]);
      const first = (result as { value: [number, string] }[] | undefined)?.[0];
      return first ? Number(first.value[1]) : undefined;
    } catch {
      return undefined;
    }
  };
  const waitFor = async (query: string, value: number, timeoutMs = 20_000) => {
    const exited = () => (child.exitCode === null ? undefined : `prometheus exited with code ${child.exitCode}`);
    await until(() => firstValue(query), (found) => found === value, `${query} to give ${value}`, { timeoutMs, everyMs: 200, failIf: exited }).catch((error: Error) => {
      throw new Error(`${error.message}; prometheus said:\n${output}`);
    });
  };

  try {
    await waitFor('interlock_test_up', 1, 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    set: (metric, value, labels = {}) => {
      series.set(`${metric}${JSON.stringify(Object.entries(labels).sort())}`, { metric, labels, value });
    },
    waitFor,
    stop,
  };
}
