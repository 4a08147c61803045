import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Pinned versions of the cluster's Go binaries (v1.31+ of the server needs a newer Go than our machines have). */
export const TEMPORAL_SERVER_VERSION = '1.30.4';
export const TEMPORAL_UI_SERVER_VERSION = '2.54.1';

const INSTALL_ROOT = fileURLToPath(new URL('../.temporal/', import.meta.url));

export interface ClusterBinary {
  what: string;
  envVar: string;
  /** The name looked up on PATH. */
  command: string;
  /** Folder under `.temporal/` and the file `go install` writes into its `bin/`. */
  folder: string;
  installedAs: string;
  goModule: string;
  version: string;
}

export const clusterBinaries = {
  server: {
    what: 'the Temporal server',
    envVar: 'TEMPORAL_SERVER_PATH',
    command: 'temporal-server',
    folder: `temporal-server-${TEMPORAL_SERVER_VERSION}`,
    installedAs: 'server',
    goModule: 'go.temporal.io/server/cmd/server',
    version: TEMPORAL_SERVER_VERSION,
  },
  sqlTool: {
    what: "the Temporal server's SQL schema tool",
    envVar: 'TEMPORAL_SQL_TOOL_PATH',
    command: 'temporal-sql-tool',
    folder: `temporal-server-${TEMPORAL_SERVER_VERSION}`,
    installedAs: 'sql',
    goModule: 'go.temporal.io/server/cmd/tools/sql',
    version: TEMPORAL_SERVER_VERSION,
  },
  uiServer: {
    what: 'the Temporal Web UI server',
    envVar: 'TEMPORAL_UI_SERVER_PATH',
    command: 'temporal-ui-server',
    folder: `temporal-ui-server-${TEMPORAL_UI_SERVER_VERSION}`,
    installedAs: 'server',
    goModule: 'github.com/temporalio/ui-server/v2/cmd/server',
    version: TEMPORAL_UI_SERVER_VERSION,
  },
} as const satisfies Record<string, ClusterBinary>;

export class MissingClusterBinaryError extends Error {
  override name = 'MissingClusterBinaryError';
}

export interface FindClusterBinaryOptions {
  /** `go install` the pinned version when nothing is found (the default). */
  install?: boolean;
  env?: NodeJS.ProcessEnv;
  root?: string;
  log?: (line: string) => void;
}

/** The same order as the CLI's: the explicit env var, PATH, else our own pinned `go install` under `.temporal/`. */
export async function findClusterBinary(
  binary: ClusterBinary,
  { install = true, env = process.env, root = INSTALL_ROOT, log = console.error }: FindClusterBinaryOptions = {},
): Promise<string> {
  const explicit = env[binary.envVar];
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new MissingClusterBinaryError(`${binary.envVar}=${explicit} is not an executable file; fix or unset it.`);
  }
  const onPath = (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, binary.command)).find(isExecutable);
  if (onPath) return onPath;

  const own = join(root, binary.folder, 'bin', binary.installedAs);
  if (isExecutable(own)) return own;
  if (install) {
    const bin = join(root, binary.folder, 'bin');
    mkdirSync(bin, { recursive: true });
    log(`Building ${binary.what} ${binary.version} with go install into ${bin} (a few minutes) …`);
    try {
      await run('go', ['install', `${binary.goModule}@v${binary.version}`], {
        env: { ...env, GOBIN: bin },
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      throw new MissingClusterBinaryError(`Could not build ${binary.what} ${binary.version} with go install: ${firstLine(error)}`);
    }
    if (isExecutable(own)) return own;
  }
  throw new MissingClusterBinaryError(
    `Cannot find ${binary.what}: install go (the pinned ${binary.version} builds into .temporal/), put \`${binary.command}\` on PATH, or set ${binary.envVar}.`,
  );
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function firstLine(error: unknown): string {
  const stderr = (error as { stderr?: string }).stderr?.trim();
  const text = stderr || (error instanceof Error ? error.message : String(error));
  return text.split('\n').find((line) => line.trim())?.trim() ?? text;
}
