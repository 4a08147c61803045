import { describe, expect, it } from 'vitest';
import { ok } from '../support/api.js';
import { useCliAgainst } from '../support/cli.js';
import { GO_LIVE_PROJECT, securityTeamsConfig } from '../support/fixtures.js';
import { uniqueRelease, useStack, waitFor } from '../support/stack.js';

/**
 * Approval rules and approver inputs (docs/manual-steps.md) from a terminal: real bin/interlock.mjs
 * processes against the API served over real HTTP. status shows each rule's progress and who may
 * approve; proceed and approve take `--input NAME=VALUE`, refused before anything is sent when bad.
 */
const config = securityTeamsConfig(GO_LIVE_PROJECT);
const stack = useStack(config);
const { interlock } = useCliAgainst(stack);

describe('approval rules and inputs from a terminal', () => {
  it('status shows the rules and inputs; a bad --input is refused before anything is sent; two people approve with inputs', async () => {
    const { id } = await ok(stack.trigger({ project: 'guarded', environment: 'production', release: uniqueRelease() }), 201);
    await waitFor(stack, id, (view) => view.status === 'Waiting');

    const status = await interlock('vic', 'status', id);
    expect(status.stdout).toContain('Approval rules: 2 from security: 0 of 2; 1 from release-managers: 0 of 1');
    expect(status.stdout).toContain('May approve now: jjones, mlee, vic (or an admin)');
    expect(status.stdout).toContain('Proceed with --input risk=… --input ticket=… --input backupTaken=…: risk (low|high, required), ticket (text matching CHG-[0-9]+), backupTaken (true|false)');

    await interlock('mlee', 'take', id);
    const bad = await interlock('mlee', 'proceed', id, '--input', 'risk=extreme', '--input', 'colour=red');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--input colour: "colour" is not an input of this step (it asks for risk, ticket, backupTaken)');
    expect(bad.stderr).toContain('--input risk: expected one of low, high, not "extreme"');
    expect((await interlock('mlee', 'proceed', id, '--input', 'risk')).stderr).toContain('--input "risk" is not NAME=VALUE.');

    // mlee, in both teams, counts toward both rules; the step waits for one more from security.
    const first = await interlock('mlee', 'proceed', id, '--input', 'risk=low', '--notes', 'checked');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Your approval counts; it still needs 1 more from security, from someone else');
    const between = await interlock('vic', 'status', id);
    expect(between.stdout).toContain('Approval rules: 2 from security: 1 of 2 (Morgan Lee); 1 from release-managers: met (Morgan Lee)');
    expect(between.stdout).toContain('May approve now: vic (or an admin)');
    const waiting = await interlock('vic', 'interruptions');
    expect(waiting.stdout).toContain('  Approval rules: 2 from security: 1 of 2 (Morgan Lee); 1 from release-managers: met (Morgan Lee)');
    expect(waiting.stdout).toContain(`    interlock take ${id}`);

    // approve takes and proceeds in one go; a yes/no is written yes or true.
    const last = await interlock('vic', 'approve', id, '--input', 'risk=high', '--input', 'backupTaken=yes');
    expect(last.code, last.stderr).toBe(0);
    expect(last.stdout).toContain('"Go-live" proceeded by Vic Viewer (vic) (approved by mlee, vic)');
    expect(last.stdout).toContain('Inputs: risk=high, backupTaken=true');
    expect(last.stdout).toContain('It goes on.');
    const done = await waitFor(stack, id, (view) => view.finishedAt !== null);
    expect(done.steps[1]?.log).toBe('risk=high ticket= backup=True\n');
  });
});
