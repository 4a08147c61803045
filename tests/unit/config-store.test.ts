import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigStore, describeReload, type ReloadResult } from '../../config/config-store.js';
import { ConfigError } from '../../config/load.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const config = (teamName: string) => `
teams: [{ id: sre, name: ${teamName} }]
projects:
  - id: hello
    name: Hello
    environments: [qa]
    process: [{ name: Deploy, type: script, run: echo hi }]
`;

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'interlock-store-'));
  dirs.push(dir);
  const path = join(dir, 'interlock.yaml');
  writeFileSync(path, text);
  return path;
}

describe('ConfigStore', () => {
  it('loads a new file into the same object, so whoever holds it reads the new config', () => {
    const path = file(config('Site reliability'));
    const store = ConfigStore.load(path);
    const held = store.config;
    const reloads: ReloadResult[] = [];
    store.onReload((result) => reloads.push(result));

    expect(store.reload()).toMatchObject({ loaded: true, changed: false });
    writeFileSync(path, config('SRE on call'));
    const result = store.reload();
    expect(result).toMatchObject({ loaded: true, changed: true });
    expect(held.teams).toEqual([{ id: 'sre', name: 'SRE on call' }]);
    expect(store.status().sha256).not.toBe(reloads[0]!.status.sha256);
    expect(describeReload(result)).toMatch(/^Config reloaded from \S+interlock\.yaml \(sha256 [0-9a-f]{12}…\)$/);
  });

  it('refuses a broken file with every problem, keeps the config, and forgets the refusal once a good file loads', () => {
    const path = file(config('Site reliability'));
    const store = ConfigStore.load(path);
    const { sha256 } = store.status();
    writeFileSync(path, `${config('Site reliability')}\nusers: [{ id: u-1, username: x, displayName: X, teams: [nobody] }]\n`);
    const refused = store.reload();
    expect(refused.loaded).toBe(false);
    expect(store.config.teams[0]!.name).toBe('Site reliability');
    expect(store.status()).toMatchObject({ sha256, lastRefusal: { problems: ['users[0].teams[0]: unknown team "nobody"'] } });
    expect(describeReload(refused)).toContain('was refused; the running config stays:\n  - users[0].teams[0]: unknown team "nobody"');

    writeFileSync(path, config('SRE'));
    expect(store.reload().loaded).toBe(true);
    expect(store.status().lastRefusal).toBeNull();
  });

  it('a file that is gone is a refusal too, and a config given as an object never reloads', () => {
    const path = file(config('Site reliability'));
    const store = ConfigStore.load(path);
    rmSync(path);
    expect(store.reload()).toMatchObject({ loaded: false, problems: [expect.stringContaining('cannot read the file')] });
    expect(() => ConfigStore.load(path)).toThrow(ConfigError);
    const fixed = ConfigStore.fixed(store.config);
    expect(fixed.reload()).toMatchObject({ loaded: true, changed: false });
  });
});
