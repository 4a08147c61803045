import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { npmStart, type Running } from '../support/npm-start.js';
import { until } from '../support/poll.js';

/**
 * Roster changes without a restart, as an admin makes them: edit the config file of a running
 * `npm start` (or send it SIGHUP), and who may act changes from the next request on; a file that
 * is not valid is refused and the running config stays; a running deployment keeps what it
 * started with.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'interlock-reload-'));
const configPath = join(dataDir, 'interlock.yaml');

const user = (id: string, username: string, extra: string) => `
  - id: ${id}
    username: ${username}
    displayName: ${username}
    ${extra}
    tokenSha256: ${createHash('sha256').update(`${username}-token`).digest('hex')}`;

/** The config as the admin edits it: who is in release-managers, who exists, what the step says. */
function writeConfig({ releaseManagers, withMorgan = true, instructions }: { releaseManagers: string[]; withMorgan?: boolean; instructions: string }) {
  const text = `teams:
  - { id: release-managers, name: Release managers }
users:${[
    user('u-1', 'ada', 'roles: [admin]'),
    user('u-2', 'ci', 'roles: [deployer]'),
    user('u-3', 'jjones', `roles: [deployer]\n    teams: [${releaseManagers.includes('jjones') ? 'release-managers' : ''}]`),
    ...(withMorgan ? [user('u-4', 'mlee', `roles: [deployer]\n    teams: [${releaseManagers.includes('mlee') ? 'release-managers' : ''}]`)] : []),
  ].join('')}
projects:
  - id: hello
    name: Hello
    environments: [production]
    process:
      - name: Sign-off
        type: manual
        responsibleTeams: [release-managers]
        instructions: ${instructions}
`;
  // As an editor saves: a new file put in place of the old one.
  writeFileSync(`${configPath}.tmp`, text);
  renameSync(`${configPath}.tmp`, configPath);
}

let stack: Running | undefined;

beforeAll(async () => {
  writeConfig({ releaseManagers: ['jjones', 'mlee'], instructions: 'Check the dashboards.' });
  stack = await npmStart({ INTERLOCK_DATA_DIR: dataDir, INTERLOCK_CONFIG: configPath, HOST: '127.0.0.1' });
}, 180_000);

afterAll(async () => {
  await stack?.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

const call = (username: string, path: string, init: RequestInit = {}) =>
  fetch(`${stack!.url}${path}`, { ...init, headers: { Authorization: `Bearer ${username}-token`, 'Content-Type': 'application/json', ...init.headers } });
const json = async <T>(response: Response | Promise<Response>): Promise<T> => (await (await response).json()) as T;
const teamsOf = async (username: string) => (await json<{ teams: { id: string }[] }>(call(username, '/api/me'))).teams.map((team) => team.id);

interface View {
  id: string;
  status: string;
  interruptions: { id: string; instructions: string }[];
}

async function waiting(release: string): Promise<View> {
  const { id } = await json<{ id: string }>(call('ci', '/api/deployments', { method: 'POST', body: JSON.stringify({ project: 'hello', environment: 'production', release }) }));
  return until(() => json<View>(call('ci', `/api/deployments/${encodeURIComponent(id)}`)), (view) => view.status === 'Waiting', `${release} to wait`);
}

describe('the config, changed while Interlock runs', () => {
  it('takes a person out of a team on their next request, and keeps a running deployment as it started', async () => {
    const before = await waiting('1.0.0');
    expect(before.interruptions[0]!.instructions).toBe('Check the dashboards.');
    expect(await teamsOf('jjones')).toEqual(['release-managers']);

    writeConfig({ releaseManagers: ['mlee'], instructions: 'Check the dashboards and the error budget.' });
    await vi.waitFor(async () => expect(await teamsOf('jjones')).toEqual([]), { timeout: 10_000, interval: 100 });
    expect(stack!.output()).toMatch(/Config reloaded from \S*interlock\.yaml \(sha256 [0-9a-f]{12}…\)/);

    const take = await call('jjones', `/api/deployments/${encodeURIComponent(before.id)}/interruptions/${before.interruptions[0]!.id}/take-responsibility`, { method: 'POST', body: '{}' });
    expect(take.status).toBe(403);
    // The deployment that was waiting keeps the step it started with; a new one gets the new words.
    expect((await json<View>(call('ci', `/api/deployments/${encodeURIComponent(before.id)}`))).interruptions[0]!.instructions).toBe('Check the dashboards.');
    expect((await waiting('1.0.1')).interruptions[0]!.instructions).toBe('Check the dashboards and the error budget.');
    const taken = await call('mlee', `/api/deployments/${encodeURIComponent(before.id)}/interruptions/${before.interruptions[0]!.id}/take-responsibility`, { method: 'POST', body: '{}' });
    expect(taken.status).toBe(200);
  }, 60_000);

  it('ends a removed person\'s token and dashboard session at once', async () => {
    const signIn = await fetch(`${stack!.url}/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: stack!.url },
      body: 'token=mlee-token&next=%2F',
    });
    expect(signIn.status).toBe(303);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const page = () => fetch(`${stack!.url}/`, { redirect: 'manual', headers: { Cookie: cookie, Accept: 'text/html' } });
    expect((await page()).status).toBe(200);

    writeConfig({ releaseManagers: [], withMorgan: false, instructions: 'Check the dashboards and the error budget.' });
    await vi.waitFor(async () => expect((await call('mlee', '/api/me')).status).toBe(401), { timeout: 10_000, interval: 100 });
    const after = await page();
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toMatch(/^\/sign-in/);
  }, 60_000);

  it('refuses a broken file, keeps the running config, and says why, in the output and to admins', async () => {
    const { sha256 } = await json<{ sha256: string }>(call('ada', '/api/admin/config'));
    writeFileSync(configPath, 'teams:\n  - { id: release-managers, name: Release managers }\nusers:\n  - id: u-1\n    username: ada\n    teams: [nobody-team]\n');
    const status = await vi.waitFor(
      async () => {
        const answer = await json<{ sha256: string; lastRefusal: { problems: string[] } | null }>(call('ada', '/api/admin/config'));
        expect(answer.lastRefusal).not.toBeNull();
        return answer;
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(status.sha256).toBe(sha256);
    expect(status.lastRefusal!.problems.join('\n')).toContain('users[0]');
    expect(stack!.output()).toContain('was refused; the running config stays:');
    // Everyone still signs in as before.
    expect(await teamsOf('ada')).toEqual([]);
    expect((await call('ci', '/api/me')).status).toBe(200);
    // Only admins read the config's status.
    expect((await call('ci', '/api/admin/config')).status).toBe(403);
  }, 60_000);

  it('reloads on SIGHUP too, and keeps running', async () => {
    writeConfig({ releaseManagers: ['jjones'], instructions: 'Check the dashboards.' });
    await vi.waitFor(async () => expect(await teamsOf('jjones')).toEqual(['release-managers']), { timeout: 10_000, interval: 100 });
    const node = stack!.processes().find((process) => /node .*start\.ts/.test(process.args))!;
    const lines = stack!.output().split('\n').length;
    process.kill(node.pid, 'SIGHUP');
    await vi.waitFor(() => expect(stack!.output().split('\n').slice(lines - 1).join('\n')).toMatch(/Config in \S*interlock\.yaml unchanged/), { timeout: 10_000, interval: 100 });
    expect(stack!.alive()).toBe(true);
    expect((await call('jjones', '/api/me')).status).toBe(200);
  }, 60_000);
});
