import { describe, expect, it } from 'vitest';
import {
  approversOf,
  changedVariables,
  describeChanges,
  describePrevious,
  latestEvaluation,
  previousOf,
  remainingFor,
} from '../../core/decision-context.js';
import type { Actor, Interruption, Person } from '../../core/interruptions.js';
import { MASK } from '../../core/masking.js';
import type { DeploymentView, StepView } from '../../core/views.js';

// docs/change-control.md#the-context-to-decide: what an interruption shows of what is being approved.

const person = (username: string): Person => ({ id: `u-${username}`, username, displayName: username.toUpperCase() });
const actor = (username: string, teams: string[], roles: Actor['roles'] = ['deployer']): Actor => ({ ...person(username), teams, roles });

const interruption = (overrides: Partial<Interruption>): Interruption => ({
  id: 'i-1',
  kind: 'Manual',
  step: 'Sign-off',
  state: 'Pending',
  instructions: '',
  responsibleTeams: ['release-managers'],
  assignee: null,
  notes: null,
  createdAt: '2025-01-01T09:00:00.000Z',
  decidedAt: null,
  timeoutAt: null,
  onTimeout: 'abort',
  ...overrides,
});

describe('changedVariables', () => {
  it('lists each variable whose value differs, by name, with null where one had none', () => {
    const changes = changedVariables(
      { variables: { IMAGE_TAG: '1.4.1', REPLICAS: '3', OLD_FLAG: 'on', Same: 'x' } },
      { variables: { REPLICAS: '4', IMAGE_TAG: '1.5.0', NEW_FLAG: '', Same: 'x' } },
    );
    expect(changes).toEqual([
      { name: 'IMAGE_TAG', from: '1.4.1', to: '1.5.0' },
      { name: 'NEW_FLAG', from: null, to: '' },
      { name: 'OLD_FLAG', from: 'on', to: null },
      { name: 'REPLICAS', from: '3', to: '4' },
    ]);
  });

  it('masks both values of a variable sensitive in either deployment, and leaves an unchanged secret out', () => {
    const changes = changedVariables(
      { variables: { DB_PASSWORD: 'old-secret', API_KEY: 'same-key', TOKEN: 'was-plain' }, sensitive: ['DB_PASSWORD', 'API_KEY'] },
      { variables: { DB_PASSWORD: 'new-secret', API_KEY: 'same-key', TOKEN: 'now-secret' }, sensitive: ['DB_PASSWORD', 'API_KEY', 'TOKEN'] },
    );
    expect(changes).toEqual([
      { name: 'DB_PASSWORD', from: MASK, to: MASK },
      { name: 'TOKEN', from: MASK, to: MASK },
    ]);
    expect(JSON.stringify(changes)).not.toMatch(/secret|was-plain/);
  });

  it('shows a sensitive variable that appeared as masked, from none', () => {
    expect(changedVariables({ variables: {} }, { variables: { KEY: 'k' }, sensitive: ['KEY'] })).toEqual([{ name: 'KEY', from: null, to: MASK }]);
  });

  it('finds nothing changed between equal sets', () => {
    expect(changedVariables({ variables: { A: '1' } }, { variables: { A: '1' } })).toEqual([]);
    expect(describeChanges([])).toBe('no variable changed');
  });
});

describe('the previous deployment', () => {
  const view: Pick<DeploymentView, 'id' | 'release' | 'finishedAt' | 'triggeredBy' | 'interruptions'> = {
    id: 'hello:production:1.4.1:abc',
    release: '1.4.1',
    finishedAt: '2025-01-02T10:00:00.000Z',
    triggeredBy: person('ci'),
    interruptions: [
      interruption({ id: 'a', step: 'Approve', kind: 'Approval', state: 'Proceeded', assignee: person('alice'), decidedAt: '2025-01-02T09:30:00.000Z' }),
      interruption({
        id: 'b',
        step: 'Two sign-offs',
        state: 'Proceeded',
        assignee: person('carol'),
        decidedAt: '2025-01-02T09:50:00.000Z',
        approvals: [
          { user: person('bob'), at: '2025-01-02T09:40:00.000Z', notes: null },
          { user: person('carol'), at: '2025-01-02T09:50:00.000Z', notes: 'ok' },
        ],
      }),
      interruption({ id: 'c', step: 'Timed out', state: 'TimedOut', decidedAt: '2025-01-02T09:00:00.000Z' }),
      interruption({ id: 'd', step: 'Retry', kind: 'GuidedFailure', state: 'Retried', assignee: person('dave'), decidedAt: '2025-01-02T09:10:00.000Z' }),
      interruption({ id: 'e', step: 'Policy: production', kind: 'Approval', state: 'Overridden', assignee: null, decidedAt: '2025-01-02T09:20:00.000Z' }),
    ],
  };

  it('names whoever proceeded its manual steps and approvals, every approval of a step that needed several, oldest first', () => {
    expect(approversOf(view)).toEqual([
      { username: 'alice', displayName: 'ALICE', step: 'Approve', at: '2025-01-02T09:30:00.000Z' },
      { username: 'bob', displayName: 'BOB', step: 'Two sign-offs', at: '2025-01-02T09:40:00.000Z' },
      { username: 'carol', displayName: 'CAROL', step: 'Two sign-offs', at: '2025-01-02T09:50:00.000Z' },
    ]);
  });

  it('reads in one line', () => {
    const previous = previousOf(view);
    expect(previous).toMatchObject({ deploymentId: view.id, release: '1.4.1', finishedAt: view.finishedAt, triggeredBy: 'ci' });
    expect(describePrevious(previous)).toBe(
      '1.4.1 (by ci, finished 2025-01-02T10:00:00.000Z); approved by ALICE (alice) at 2025-01-02T09:30:00.000Z, BOB (bob) at 2025-01-02T09:40:00.000Z, CAROL (carol) at 2025-01-02T09:50:00.000Z',
    );
    expect(describePrevious(null)).toMatch(/first successful deployment/);
    expect(describePrevious({ ...previous, approvedBy: [] })).toMatch(/nobody approved it$/);
  });
});

describe('latestEvaluation and remainingFor', () => {
  const step = (name: string, evaluation?: { result: 'pass' | 'warning' | 'fail'; score: number }): StepView => ({
    name,
    type: evaluation ? 'evaluation' : 'script',
    status: 'Succeeded',
    log: '',
    startedAt: null,
    finishedAt: null,
    ...(evaluation ? { evaluation: { ...evaluation, totalScore: { pass: '90%', warning: '75%' }, objectives: [], comparedWith: 0, message: '' } } : {}),
  });

  it('takes the last evaluated step', () => {
    expect(latestEvaluation([step('Deploy')])).toBeUndefined();
    expect(latestEvaluation([step('Quality 1', { result: 'fail', score: 10 }), step('Quality 2', { result: 'pass', score: 95 }), step('Notify')])).toEqual({
      step: 'Quality 2',
      result: 'pass',
      score: 95,
    });
  });

  it('says who it is for without rules, repeats remaining with rules, and nothing once it is over', () => {
    const roster = [actor('alice', ['release-managers']), actor('bob', ['sre']), actor('root', [], ['admin'])];
    expect(remainingFor(interruption({}), roster)).toEqual({ rules: [], mayApprove: ['alice'] });
    expect(remainingFor(interruption({ excludedUserIds: ['u-alice'] }), roster)).toEqual({ rules: [], mayApprove: [] });
    expect(remainingFor(interruption({ kind: 'Window', overrideTeams: ['sre'] }), roster)).toEqual({ rules: [], mayApprove: [] });
    const remaining = { rules: [{ rule: 0, teams: ['sre'], needed: 1 }], mayApprove: ['bob'] };
    expect(remainingFor(interruption({ rules: [{ teams: ['sre'], count: 1, approvals: [], met: false }], remaining }), roster)).toEqual(remaining);
    expect(remainingFor(interruption({ state: 'Proceeded' }), roster)).toEqual({ rules: [], mayApprove: [] });
  });
});
