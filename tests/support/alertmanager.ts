import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../temporal/dev-server.js';
import { until } from './poll.js';
import { installedCommand, startProcess } from './processes.js';

/** Debian's `prometheus-alertmanager`, installed by scripts/install-alertmanager.sh when missing; a test that needs it fails without it. */
function findAlertmanager(): string {
  const found = installedCommand('prometheus-alertmanager', 'install-alertmanager.sh');
  if ('missing' in found) throw new Error(found.missing);
  return found.path;
}

export interface TestAlertmanager {
  /** Its base URL, as a check's `alertmanager.url` names it. */
  url: string;
  /** Fires an alert with these labels (as Prometheus would send it), or resolves it with `resolved`. */
  alert(labels: Record<string, string>, options?: { resolved?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/** A real Alertmanager on a free local port, alone (no cluster), with a receiver that sends nothing. */
export async function startAlertmanager(): Promise<TestAlertmanager> {
  const binary = findAlertmanager();
  const dir = mkdtempSync(join(tmpdir(), 'interlock-alertmanager-'));
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(config, 'route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = startProcess(binary, [`--config.file=${config}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn']);
  const stop = async () => {
    await started.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.status === 200;
  try {
    await until(ready, Boolean, 'Alertmanager to be ready', { timeoutMs: 30_000, everyMs: 200, failIf: () => (started.child.exitCode === null ? undefined : `it exited: ${started.output()}`) });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    async alert(labels, { resolved = false } = {}) {
      const now = Date.now();
      const body = [{ labels, startsAt: new Date(now - 60_000).toISOString(), ...(resolved ? { endsAt: new Date(now - 1000).toISOString() } : {}) }];
      const response = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      if (response.status !== 200) throw new Error(`Alertmanager refused the alert: ${response.status} ${await response.text()}`);
    },
    stop,
  };
}
