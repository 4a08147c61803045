import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingBinaryError } from './binaries.js';
import { findExecutable, type Findable, firstLine, goInstall, isExecutable } from './executables.js';

/** Pinned versions of the cluster's Go binaries (v1.31+ of the server needs a newer Go than our machines have). */
export const TEMPORAL_SERVER_VERSION = '1.30.4';
export const TEMPORAL_UI_SERVER_VERSION = '2.54.1';

const INSTALL_ROOT = fileURLToPath(new URL('../.temporal/', import.meta.url));

export interface ClusterBinary extends Findable {
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

export class MissingClusterBinaryError extends MissingBinaryError {
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
  const bin = join(root, binary.folder, 'bin');
  const own = join(bin, binary.installedAs);
  const refuse = (message: string) => new MissingClusterBinaryError(message);
  const found = findExecutable(binary, own, env, refuse);
  if (found) return found;
  if (install) {
    log(`Building ${binary.what} ${binary.version} with go install into ${bin} (a few minutes) …`);
    try {
      await goInstall(binary.goModule, binary.version, bin, env);
    } catch (error) {
      throw new MissingClusterBinaryError(`Could not build ${binary.what} ${binary.version} with go install: ${firstLine(error)}`);
    }
    if (isExecutable(own)) return own;
  }
  throw new MissingClusterBinaryError(
    `Cannot find ${binary.what}: install go (the pinned ${binary.version} builds into .temporal/), put \`${binary.command}\` on PATH, or set ${binary.envVar}.`,
  );
}
