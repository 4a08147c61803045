import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { findTemporalCli } from './binaries.js';
import { searchAttributeFlags } from './search-attributes.js';

export interface DevServerOptions {
  /** Where the server keeps its SQLite state; without it, state lives in memory and dies with the process. */
  dataDir?: string;
  port?: number;
  uiPort?: number;
  /** No Temporal Web (tests). */
  headless?: boolean;
  namespace?: string;
  ip?: string;
  /** Where Temporal Web decodes payloads (Interlock's `/codec`), so an admin sees values the history holds encrypted. */
  codecEndpoint?: string;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with Interlock's search attributes registered, and resolves once
 * its frontend answers. Its output goes to `temporal.log` in the data dir (or is dropped).
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = await findTemporalCli();
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const uiPort = options.headless ? null : (options.uiPort ?? (await freePort()));
  const args = [
    'server', 'start-dev',
    '--ip', ip,
    '--port', String(port),
    '--namespace', options.namespace ?? 'default',
    '--log-level', 'warn',
    ...searchAttributeFlags().flatMap((flag) => ['--search-attribute', flag]),
  ];
  if (uiPort === null) args.push('--headless');
  else {
    args.push('--ui-port', String(uiPort), '--ui-ip', ip, '--ui-disable-news-fetch');
    if (options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
  }
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push('--db-filename', join(options.dataDir, 'temporal.db'));
    // A write-ahead log and fewer fsyncs: thousands of waiting deployments start and decide faster,
    // and a crash loses at most the last moments (the same trade the dev server's in-memory mode makes whole).
    for (const pragma of ['journal_mode=wal', 'synchronous=normal']) args.push('--sqlite-pragma', pragma);
  }

  if (options.dataDir) await stopLeftover(options.dataDir);
  // The server runs under a small supervisor that stops it when our stdin pipe closes, so the
  // server dies with this process even when it is killed with SIGKILL (no orphan holds the port or
  // the database), and records the server's pid so a leftover from an older run can be found.
  const pidFile = options.dataDir ? join(options.dataDir, PID_FILE) : '/dev/null';
  const child = spawn('sh', ['-c', SUPERVISOR, 'temporal-supervisor', pidFile, cli, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  if (options.dataDir) {
    const log = createWriteStream(join(options.dataDir, 'temporal.log'), { flags: 'a' });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
  } else {
    child.stdout.resume();
    child.stderr.resume();
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    child.stdin?.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };

  const address = `${ip}:${port}`;
  try {
    await waitUntilServing(address, exited);
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, uiUrl: uiPort === null ? null : `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${uiPort}`, process: child, stop };
}

async function waitUntilServing(address: string, exited: Promise<number | null>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let early: number | null | undefined;
  void exited.then((code) => (early = code));
  for (;;) {
    if (early !== undefined) throw new Error(`the Temporal dev server exited (code ${early}) before it was ready; see its log`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the Temporal dev server at ${address} did not answer within ${timeoutMs / 1000} s: ${error}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

const PID_FILE = 'temporal.pid';

/**
 * Runs the command in the background, writes its pid, forwards TERM/INT/HUP to it, and kills it
 * when its own stdin reaches EOF (our end of the pipe closes when we die, however we die).
 */
const SUPERVISOR = `
pidfile="$1"; shift
exec 3<&0
"$@" </dev/null &
child=$!
echo "$child" > "$pidfile"
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
{ cat <&3 >/dev/null; kill -TERM "$child" 2>/dev/null; } &
watcher=$!
while :; do
  wait "$child"; status=$?
  kill -0 "$child" 2>/dev/null || break
done
kill "$watcher" 2>/dev/null
exit "$status"
`;

/**
 * A dev server an earlier run left holding this data directory (an `npm start` killed before this
 * supervisor existed, or a machine that lost the process tree): stopped before a new one starts.
 */
async function stopLeftover(dataDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, PID_FILE), 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !isTemporalDevServer(pid, dataDir)) return;
  console.error(`Stopping a Temporal dev server an earlier run left on ${dataDir} (pid ${pid}) …`);
  const send = (signal: NodeJS.Signals | 0) => {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  };
  send('SIGTERM');
  for (let waited = 0; waited < 10_000 && send(0); waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  send('SIGKILL');
}

function isTemporalDevServer(pid: number, dataDir: string): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.includes('start-dev') && args.includes(join(dataDir, 'temporal.db'));
  } catch {
    return false;
  }
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
