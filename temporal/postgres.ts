import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, chownSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stopLeftover, type Supervised, supervise } from './supervisor.js';

const run = promisify(execFile);
const INSTALL_SCRIPT = fileURLToPath(new URL('../scripts/install-postgres.sh', import.meta.url));

/** The database user and databases the Temporal server uses; the password is made on first start. */
export const POSTGRES_USER = 'temporal';

export class MissingPostgresError extends Error {
  override name = 'MissingPostgresError';
}

/**
 * The folder holding PostgreSQL's `initdb` and `postgres`: `INTERLOCK_POSTGRES_BIN`, else PATH, else
 * Debian's `/usr/lib/postgresql/<newest>/bin`; installs Debian's package (as root, with apt) when
 * none is found and `install` is on, as scripts/install-chromium.sh does for the browser tests.
 */
export async function findPostgres({ install = true, env = process.env, log = console.error } = {}): Promise<string> {
  const explicit = env.INTERLOCK_POSTGRES_BIN;
  if (explicit) {
    if (hasPostgres(explicit)) return explicit;
    throw new MissingPostgresError(`INTERLOCK_POSTGRES_BIN=${explicit} holds no executable initdb and postgres; fix or unset it.`);
  }
  const found = () => (env.PATH ?? '').split(delimiter).filter(Boolean).find(hasPostgres) ?? debianBin();
  const first = found();
  if (first) return first;
  if (install) {
    log("Installing Debian's PostgreSQL …");
    try {
      await run(INSTALL_SCRIPT, [], { maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      throw new MissingPostgresError(`Could not install PostgreSQL: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`);
    }
    const installed = found();
    if (installed) return installed;
  }
  throw new MissingPostgresError(
    "Cannot find PostgreSQL: install Debian's `postgresql` package (scripts/install-postgres.sh does, as root), or set INTERLOCK_POSTGRES_BIN to the folder holding initdb and postgres.",
  );
}

function debianBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  return readdirSync(root)
    .filter((version) => /^\d+$/.test(version))
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => join(root, version, 'bin'))
    .find(hasPostgres);
}

function hasPostgres(dir: string): boolean {
  return ['initdb', 'postgres'].every((name) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface PostgresOptions {
  /** The cluster's folder: the database lives in `postgres/` under it, its password beside it. */
  dir: string;
  port: number;
  bin?: string;
  log?: (line: string) => void;
}

export interface Postgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** `PostgreSQL 15.18`, as the server says. */
  version: string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Starts a PostgreSQL server of our own on 127.0.0.1:`port` (no Unix socket), making its database
 * on first start (`initdb`, password authentication for a `temporal` user whose password is kept,
 * mode 0600, beside it). Run as root, it runs as the `postgres` user, as PostgreSQL insists.
 * It runs under the supervisor, so it stops with this process, however this process ends.
 */
export async function startPostgres({ dir, port, bin, log = console.error }: PostgresOptions): Promise<Postgres> {
  bin ??= await findPostgres({ log });
  mkdirSync(dir, { recursive: true });
  const pgdata = join(dir, 'postgres');
  const pidFile = join(dir, 'postgres.pid');
  await stopLeftover(pidFile, (args) => args.includes(pgdata), 'a PostgreSQL server', { signal: 'SIGINT', log });

  const owner = databaseOwner();
  const asOwner = (command: string, args: string[]): [string, string[]] =>
    owner ? ['setpriv', ['--reuid', String(owner.uid), '--regid', String(owner.gid), '--init-groups', command, ...args]] : [command, args];
  if (owner) {
    try {
      execFileSync(...asOwner('test', ['-x', dir]));
    } catch {
      throw new Error(`PostgreSQL runs as the postgres user, who cannot reach ${dir}; set INTERLOCK_DATA_DIR to a folder it can reach (one under /var/tmp, say).`);
    }
  }

  const passwordFile = join(dir, 'postgres-password');
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    const password = randomBytes(24).toString('base64url');
    rmSync(pgdata, { recursive: true, force: true });
    mkdirSync(pgdata, { mode: 0o700 });
    // initdb reads the password from a file the database's owner can read; it is gone right after.
    const initPassword = join(pgdata, '..', '.postgres-password-init');
    writeFileSync(initPassword, password, { mode: 0o600 });
    if (owner) {
      chownSync(pgdata, owner.uid, owner.gid);
      chownSync(initPassword, owner.uid, owner.gid);
    }
    log(`Making the PostgreSQL database in ${pgdata} …`);
    try {
      const [command, args] = asOwner(join(bin, 'initdb'), [
        '-D', pgdata, '-U', POSTGRES_USER, `--pwfile=${initPassword}`,
        '--auth=scram-sha-256', '--encoding=UTF8', '--no-locale',
      ]);
      await run(command, args, { maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      throw new Error(`initdb failed: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`);
    } finally {
      rmSync(initPassword, { force: true });
    }
    writeFileSync(passwordFile, password, { mode: 0o600 });
  }
  if (!existsSync(passwordFile)) {
    throw new Error(`${pgdata} has a database but ${passwordFile} is gone: restore it, or remove ${dir} to start afresh (losing every deployment in it).`);
  }
  chmodSync(passwordFile, 0o600);
  const password = readFileSync(passwordFile, 'utf8').trim();
  const version = (await run(join(bin, 'postgres'), ['--version'])).stdout.trim().replace(/^postgres \(PostgreSQL\) (\S+).*/, 'PostgreSQL $1');

  const [command, args] = asOwner(join(bin, 'postgres'), [
    '-D', pgdata,
    '-c', `port=${port}`,
    '-c', 'listen_addresses=127.0.0.1',
    // No Unix socket: TCP on loopback only, with passwords (Debian's default socket folder may not exist or be ours).
    '-c', 'unix_socket_directories=',
    '-c', 'max_connections=150',
  ]);
  const server = supervise(command, args, { pidFile, logFile: join(dir, 'postgres.log'), stopSignal: 'INT', detached: true });
  try {
    await untilReady(pgdata, server, port);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { host: '127.0.0.1', port, user: POSTGRES_USER, password, version, exited: server.exited, stop: server.stop };
}

/** root's database belongs to the `postgres` user (PostgreSQL refuses to run as root); anyone else's to themselves. */
function databaseOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim()));
    return { uid: uid!, gid: gid! };
  } catch {
    throw new MissingPostgresError('PostgreSQL will not run as root and there is no `postgres` user: install Debian\'s postgresql package (it makes one), or run as another user.');
  }
}

/** PostgreSQL writes `ready` into its postmaster.pid once it accepts connections (what `pg_ctl -w` waits for). */
async function untilReady(pgdata: string, server: Supervised, port: number, timeoutMs = 60_000): Promise<void> {
  let early: number | null | undefined;
  void server.exited.then((code) => (early = code));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (early !== undefined) throw new Error(`PostgreSQL exited (code ${early}) before it was ready${server.firstError()}`);
    try {
      const lines = readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n');
      if (lines[7]?.trim() === 'ready' && Number(lines[3]) === port) return;
    } catch {
      // Not written yet.
    }
    if (Date.now() > deadline) throw new Error(`PostgreSQL was not ready within ${timeoutMs / 1000} s${server.firstError()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
