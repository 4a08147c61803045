import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterBinaries, findClusterBinary, MissingClusterBinaryError } from '../../temporal/cluster-binaries.js';

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'interlock-cluster-bin-'));
  dirs.push(dir);
  return dir;
};
const executable = (path: string) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
};
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('finding the cluster binaries', () => {
  const server = clusterBinaries.server;

  it('takes the explicit env var first, then PATH, then our own pinned install', async () => {
    const root = scratch();
    const own = executable(join(root, server.folder, 'bin', 'server'));
    const onPath = executable(join(scratch(), server.command));
    const explicit = executable(join(scratch(), 'my-server'));
    const pathDir = join(onPath, '..');

    expect(await findClusterBinary(server, { root, install: false, env: { TEMPORAL_SERVER_PATH: explicit, PATH: pathDir } })).toBe(explicit);
    expect(await findClusterBinary(server, { root, install: false, env: { PATH: pathDir } })).toBe(onPath);
    expect(await findClusterBinary(server, { root, install: false, env: { PATH: '' } })).toBe(own);
  });

  it('says in one line what to do when nothing is found, and refuses a wrong explicit path', async () => {
    const root = scratch();
    await expect(findClusterBinary(server, { root, install: false, env: { PATH: '' } })).rejects.toThrow(
      /Cannot find the Temporal server: .*TEMPORAL_SERVER_PATH\.$/,
    );
    await expect(
      findClusterBinary(clusterBinaries.uiServer, { root, install: false, env: { TEMPORAL_UI_SERVER_PATH: join(root, 'nope') } }),
    ).rejects.toBeInstanceOf(MissingClusterBinaryError);
  });
});
