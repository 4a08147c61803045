import { describe, expect, it } from 'vitest';
import { PolicySchema } from '../../config/policy-schema.js';
import { ok } from '../support/api.js';
import { useCliAgainst } from '../support/cli.js';
import { testConfig, uniqueRelease, useStack, waitFor } from '../support/stack.js';

/**
 * Change control (docs/change-control.md) from a terminal: real bin/interlock.mjs processes against
 * the API served over real HTTP. Break-glass: status says when the window opens and who may override;
 * override is refused without a reason (before anything is sent) and outside the override teams, and
 * passes the gate for an SRE. Deploy later: proceed --run-at, checked before anything is sent, and
 * status saying when it goes on; deploy --not-after and --release-notes.
 */
const HOUR = 3_600_000;
const config = testConfig(`
- id: gated
  name: Gated service
  environments: [production]
  process:
    - { name: Deploy, type: script, run: 'echo deployed' }
- id: later
  name: Later service
  environments: [qa]
  process:
    - { name: Sign-off, type: manual, responsibleTeams: [release-managers] }
    - { name: Deploy, type: script, run: 'echo deployed' }
`);
config.policies = [
  PolicySchema.parse({
    environments: ['production'],
    freezes: [{ from: new Date(Date.now() - HOUR).toISOString(), to: new Date(Date.now() + 48 * HOUR).toISOString(), reason: 'Database migration' }],
    override: { teams: ['sre'] },
  }),
];
config.users = config.users.map((user) => (user.username === 'mlee' ? { ...user, teams: [...user.teams, 'sre'] } : user));
const stack = useStack(config);
const { interlock } = useCliAgainst(stack);

describe('break-glass from a terminal', () => {
  it('status says when it opens; override needs a reason and an override team; it passes the gate', async () => {
    const { id } = await ok(stack.trigger({ project: 'gated', environment: 'production', release: uniqueRelease() }), 201);
    await waitFor(stack, id, (view) => view.status === 'Waiting');

    const status = await interlock('jjones', 'status', id);
    expect(status.stdout).toContain('Waiting for the deployment window at "Policy: production": opens ');
    expect(status.stdout).toContain('Database migration.');
    expect(status.stdout).toContain(`interlock override ${id} --reason "…"`);
    const listed = await interlock('mlee', 'interruptions');
    expect(listed.stdout).toContain(`interlock override ${id} --reason "…"`);

    const noReason = await interlock('mlee', 'override', id);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason is required');
    const short = await interlock('mlee', 'override', id, '--reason', 'asap');
    expect(short).toMatchObject({ code: 2, stderr: expect.stringContaining('at least 10 characters') });
    const jamie = await interlock('jjones', 'override', id, '--reason', 'The release fixes a payment outage.');
    expect(jamie.code).toBe(1);
    expect(jamie.stderr).toContain('403 Forbidden: Jamie Jones (jjones) may not override "Policy: production": only members of sre may.');

    const done = await interlock('mlee', 'override', id, '--reason', 'Payments are failing in production (INC-4711).');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('"Policy: production" overridden by Morgan Lee (mlee) (break-glass): Payments are failing in production (INC-4711).');
    expect((await waitFor(stack, id, (view) => view.status === 'Succeeded')).steps[1]!.log).toBe('deployed\n');
  });
});

describe('deploy later from a terminal', () => {
  it('deploy --not-after sets the start-by; proceed --run-at refuses a past time before sending anything, then schedules it; status says when it goes on', async () => {
    const notAfter = new Date(Math.ceil((Date.now() + 3 * 24 * HOUR) / HOUR) * HOUR).toISOString();
    const started = await interlock('ci', 'deploy', '--project', 'later', '--environment', 'qa', '--release', uniqueRelease(), '--not-after', notAfter, '--release-notes', 'Fixes the checkout timeout (PAY-142).');
    expect(started.code, started.stderr).toBe(0);
    const id = /Started (\S+):/.exec(started.stdout)![1]!;
    await waitFor(stack, id, (view) => view.status === 'Waiting');
    const waiting = (await interlock('jjones', 'status', id)).stdout;
    expect(waiting).toContain(`Start-by: not past its gates by ${notAfter}, it ends Expired.`);
    expect(waiting).toMatch(/Release notes:\n +Fixes the checkout timeout \(PAY-142\)\./);
    const both = await interlock('ci', 'deploy', '--project', 'later', '--environment', 'qa', '--release', uniqueRelease(), '--release-notes', 'x', '--release-notes-file', '-');
    expect(both).toMatchObject({ code: 2, stderr: expect.stringContaining('Give --release-notes or --release-notes-file, not both.') });
    await interlock('jjones', 'take', id);

    const past = await interlock('jjones', 'proceed', id, '--run-at', new Date(Date.now() - HOUR).toISOString());
    expect(past).toMatchObject({ code: 2, stderr: expect.stringContaining('--run-at: runAt must be in the future') });
    expect((await waitFor(stack, id, () => true)).interruptions[0]!.state).toBe('Assigned');

    const runAt = new Date(Math.ceil((Date.now() + 24 * HOUR) / HOUR) * HOUR).toISOString();
    const proceeded = await interlock('jjones', 'proceed', id, '--run-at', runAt, '--notes', 'after the campaign');
    expect(proceeded.code, proceeded.stderr).toBe(0);
    expect(proceeded.stdout).toContain(`The deployment goes on at ${runAt}; until then: interlock cancel ${id}`);
    await waitFor(stack, id, (view) => view.scheduledFor === runAt);
    expect((await interlock('jjones', 'status', id)).stdout).toContain(`Scheduled: it goes on at ${runAt}; until then: interlock cancel ${id}`);
    const cancelled = await interlock('ci', 'cancel', id);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect((await waitFor(stack, id, (view) => view.finishedAt !== null)).status).toBe('Cancelled');
  });
});
