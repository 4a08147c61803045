import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliAgainst } from '../support/cli.js';
import { npmStart, type Running } from '../support/npm-start.js';

/**
 * The `interlock` CLI as a CI job and the people approving from their terminals use it: real child
 * processes of bin/interlock.mjs against one real `npm start` stack.
 */
const STEP = 'Ensure traders are aware of the deployment';
const dataDir = mkdtempSync(join(tmpdir(), 'interlock-cli-'));
const children = new Set<ChildProcess>();
let stack: Running | undefined;
let serial = 0;
const release = () => `9.${Date.now() % 100_000}.${serial++}`;

beforeAll(async () => {
  stack = await npmStart({ INTERLOCK_DATA_DIR: dataDir });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  try {
    await stack?.shutdown(30_000);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

const { terminal, interlock, until } = cliAgainst(() => stack?.url ?? '', children);

/** A CI job: `interlock deploy … --wait` of hello-service to production, and the id it printed. */
async function deployAndWait(extra: string[] = []) {
  const job = terminal('ci', ['deploy', '--project', 'hello-service', '--environment', 'production', '--release', release(), '--var', 'DeploySeconds=0', '--wait', ...extra]);
  const id = await until('the deployment id', () => /^Started (\S+):/m.exec(job.stdout())?.[1]);
  // The job's log tells the release manager the exact command to run.
  await until('the take command in the job log', () => (job.stdout().includes(`interlock take ${id}`) ? true : undefined));
  return { job, id };
}

describe.concurrent('the interlock CLI', () => {
  it('deploy --wait blocks while a release manager takes and proceeds from another terminal, then exits 0', async () => {
    const { job, id } = await deployAndWait();

    const taken = await interlock('jjones', 'take', id);
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stdout).toContain(`"${STEP}" is assigned to Jamie Jones (jjones)`);
    expect(taken.stdout).toContain(`interlock proceed ${id} --notes`);
    expect(taken.stdout).toContain('Tell the trading desk that **');

    // The other release manager, without --take-over: the 409's detail names the holder, in one line.
    const refused = await interlock('mlee', 'take', id);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `interlock: 409 Conflict: Jamie Jones (jjones) is responsible for this step; ask them, or take it over. To take it over: interlock take ${id} --take-over\n`,
    );
    const refusedJson = await interlock('mlee', 'take', id, '--json');
    expect(refusedJson.code).toBe(1);
    expect(JSON.parse(refusedJson.stdout)).toMatchObject({ error: { exitCode: 1, problem: { status: 409, code: 'HELD_BY_OTHER' } } });

    // A viewer sees it among the open interruptions (listed from Temporal visibility, which may lag a moment).
    const listed = await until('the interruption in the list', async () => {
      const { stdout } = await interlock('vic', 'interruptions', '--all', '--json');
      return (JSON.parse(stdout).interruptions as { deployment: { id: string }; state: string }[]).find((item) => item.deployment.id === id);
    });
    expect(listed.state).toBe('Assigned');

    const proceeded = await interlock('jjones', 'proceed', id, '--notes', 'Desk informed; Rick gave the all-clear.');
    expect(proceeded.code, proceeded.stderr).toBe(0);
    expect(proceeded.stdout).toContain(`"${STEP}" proceeded by Jamie Jones (jjones): Desk informed; Rick gave the all-clear.`);

    const result = await job.done;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Succeeded: Hello service 9\.\S+ to production after/);
    expect(result.stdout).toContain('API       ' + `${stack!.url}/api/deployments/${id}`);

    const status = await interlock('vic', 'status', id, '--json');
    expect(status.code).toBe(0);
    const view = JSON.parse(status.stdout);
    expect(view).toMatchObject({ id, status: 'Succeeded' });
    expect(view.variables[`Action[${STEP}].Output.Manual.ResponsibleUser.Username`]).toBe('jjones');
  });

  it('deploy --wait exits 1 when the release manager aborts', async () => {
    const { job, id } = await deployAndWait(['--timeout', '5m']);
    // Notes are optional, but never over the limit: refused before anything is sent, in the one rule's words.
    const tooLong = await interlock('jjones', 'abort', id, '--notes', 'x'.repeat(4001));
    expect(tooLong).toMatchObject({ code: 2, stderr: expect.stringContaining('Notes may be at most 4000 characters; these are 4001.') });
    expect((await interlock('jjones', 'proceed', id)).stderr).toContain(`Take it first: interlock take ${id}`);
    expect((await interlock('mlee', 'take', id)).code).toBe(0);
    const aborted = await interlock('mlee', 'abort', id, '--notes', 'The desk asked us to wait until after the close.');
    expect(aborted.code, aborted.stderr).toBe(0);

    const result = await job.done;
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toContain(`"${STEP}" aborted by Morgan Lee (mlee): The desk asked us to wait until after the close.`);
    expect(result.stdout).toMatch(/Aborted: Hello service \S+ to production/);
    const again = await interlock('mlee', 'abort', id, '--notes', 'twice');
    expect(again).toMatchObject({ code: 1, stderr: expect.stringContaining('has finished (Aborted)') });
  });

  it('deploy --wait exits 1 for a failing script, and --json gives the final view on stdout', async () => {
    const result = await interlock('ci', 'deploy', '--project', 'hello-service', '--environment', 'qa', '--release', release(),
      '--var', 'ExitCode=3', '--var', 'DeploySeconds=0', '--wait', '--json');
    expect(result.code, result.stderr).toBe(1);
    const view = JSON.parse(result.stdout);
    expect(view).toMatchObject({ status: 'Failed', environment: 'qa', variables: expect.objectContaining({ ExitCode: '3' }) });
    // Progress and the failed step's log went to stderr, leaving stdout to the JSON.
    expect(result.stderr).toMatch(/Failed: Hello service \S+ to qa at step "Deploy"/);
    expect(result.stderr).toContain('exited with code 3');
  });

  it('wait exits 2 when --timeout passes; an idempotent repeat starts nothing; cancel ends it', async () => {
    const key = `ci-run-${release()}`;
    const args = ['deploy', '--project', 'hello-service', '--environment', 'production', '--release', release(), '--idempotency-key', key, '--var', 'DeploySeconds=0'];
    const first = await interlock('ci', ...args, '--json');
    expect(first.code, first.stderr).toBe(0);
    const { id } = JSON.parse(first.stdout);
    const repeat = await interlock('ci', ...args);
    expect(repeat.code).toBe(0);
    expect(repeat.stdout).toContain(`Already started with Idempotency-Key "${key}": ${id}`);

    const waited = await interlock('ci', 'wait', id, '--timeout', '2s');
    expect(waited.code).toBe(2);
    expect(waited.stderr).toMatch(new RegExp(`^interlock: timed out after 2s: ${id.replaceAll('.', '\\.')} is still (Running|Waiting)`, 'm'));

    const listed = await until('the deployment among the waiting ones', async () => {
      const { code, stdout } = await interlock('vic', 'list', '--project', 'hello-service', '--status', 'waiting', '--json');
      expect(code).toBe(0);
      return (JSON.parse(stdout).deployments as { id: string; status: string }[]).find((d) => d.id === id);
    });
    expect(listed.status).toBe('Waiting');

    expect((await interlock('vic', 'cancel', id)).code).toBe(1); // a viewer may not
    const cancelled = await interlock('ci', 'cancel', id);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toMatch(/is Cancelled|still stopping/);
    const after = await interlock('ci', 'wait', id);
    expect(after.code).toBe(1);
    expect(after.stdout).toContain('Cancelled: Hello service');
    expect((await interlock('ci', 'cancel', id)).stderr).toMatch(/^interlock: 409 Conflict: The deployment has finished \(Cancelled\)/);
  });

  it('bad usage exits 2 with the help that shows the right way', async () => {
    const missing = await interlock('ci', 'deploy', '--project', 'hello-service');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^interlock: missing --environment, --release\.\n\ninterlock deploy: /);
    expect(missing.stderr).toContain('Usage: interlock deploy --project P --environment E --release R [options]');

    const unknown = await interlock('ci', 'deploy', '--projcet', 'x');
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/^interlock: Unknown option '--projcet'\./) });
    expect((await interlock('ci', 'frobnicate')).stderr).toMatch(/^interlock: no command "frobnicate"\.\n\ninterlock: trigger/);
    expect((await interlock('ci')).code).toBe(2);
    expect((await interlock('ci', 'take')).stderr).toContain('interlock: take needs ID.');
    expect((await interlock('ci', 'wait', 'x', '--timeout', 'soon')).stderr).toContain('--timeout "soon" is not a duration');
    // The server's 400 names the option, not the body field.
    const badRelease = await interlock('ci', 'deploy', '--project', 'hello-service', '--environment', 'qa', '--release', 'not a version');
    expect(badRelease).toMatchObject({ code: 2, stderr: expect.stringMatching(/^interlock: 400 Bad request: --release: a version such as 1\.4\.2/) });

    const help = await interlock('ci', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    const commands = ['deploy', 'wait', 'status', 'list', 'interruptions', 'take', 'proceed', 'abort', 'retry', 'ignore', 'fail', 'override', 'cancel', 'release', 'wait-release', 'approve', 'decline', 'whoami'];
    const helps = await Promise.all(commands.map((command) => interlock('ci', command, '--help')));
    helps.forEach(({ code, stdout }, i) => {
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: interlock ${commands[i]}`);
    });
  });

  it('exits 3 with one line when the server cannot be reached, and 1 for a token nobody holds', async () => {
    const unreachable = await terminal('ci', ['deploy', '--project', 'p', '--environment', 'e', '--release', '1', '--wait'], { INTERLOCK_URL: 'http://127.0.0.1:1' }).done;
    expect(unreachable).toEqual({
      code: 3,
      stdout: '',
      stderr: 'interlock: cannot reach http://127.0.0.1:1 (connection refused); check INTERLOCK_URL and that Interlock is running.\n',
    });
    const asJson = await terminal('ci', ['status', 'x', '--json'], { INTERLOCK_URL: 'http://127.0.0.1:1' }).done;
    expect(asJson.code).toBe(3);
    expect(JSON.parse(asJson.stdout).error.exitCode).toBe(3);

    const nobody = await interlock('nobody', 'whoami');
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toBe("interlock: 401 Unauthorized: That token belongs to nobody; check it, or ask an admin for a new one.\n");
    const me = await interlock('jjones', 'whoami', '--json');
    expect(JSON.parse(me.stdout)).toMatchObject({ username: 'jjones', roles: ['deployer'] });
  });

  it('release --wait delivers the example lifecycle to qa, then waits for approval in production, which approve gives from another terminal', async () => {
    const version = release();
    const job = terminal('ci', ['release', '--project', 'podtatohead', '--release', version, '--wait']);
    const id = await until('the release id', () => /^Started (\S+):/m.exec(job.stdout())?.[1]);
    // The job says when production waits, and the command that approves it.
    await until('the approve command in the job log', () => (job.stdout().includes(`interlock approve ${id}`) ? true : undefined));
    expect(job.stdout()).toMatch(/qa\.delivery: Succeeded \(pass\)/);
    expect(job.stdout()).toMatch(/production\.delivery: Waiting/);

    // Notes over the limit are refused before anything is sent: the approval still waits.
    expect((await interlock('jjones', 'decline', id, '--notes', 'x'.repeat(4001))).code).toBe(2);
    const approved = await interlock('jjones', 'approve', id, '--notes', 'qa looked good');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain('"approval" proceeded by Jamie Jones (jjones): qa looked good');
    const result = await job.done;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/production\.delivery: Succeeded \(pass\)/);
    expect(result.stdout).toContain(`Succeeded: Podtato head ${version}.`);
  });

  it('release --wait exits 1 when the approval is declined, and wait-release follows a release by its keptnContext', async () => {
    const started = await interlock('ci', 'release', '--project', 'podtatohead', '--release', release(), '--json');
    expect(started.code, started.stderr).toBe(0);
    const { id, keptnContext } = JSON.parse(started.stdout);
    const follower = terminal('vic', ['wait-release', keptnContext]);
    await until('the approval', () => (follower.stdout().includes(`interlock approve ${id}`) ? true : undefined));
    const declined = await interlock('mlee', 'decline', keptnContext, '--notes', 'not this week');
    expect(declined.code, declined.stderr).toBe(0);
    expect(declined.stdout).toContain('Declined: nothing after it runs.');
    const result = await follower.done;
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/production\.delivery: Aborted \(fail\)/);
  });
});
