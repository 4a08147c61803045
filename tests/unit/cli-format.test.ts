import { describe, expect, it } from 'vitest';
import { changes, formatDuration, outcome, parseDuration, renderView, type View } from '../../cli/format.js';

const STEP = 'Ensure traders are aware of the deployment';
const jamie = { id: 'users-237', username: 'jjones', displayName: 'Jamie Jones' };

function view(status: View['status'], steps: View['steps'][number]['status'][], interruption?: Partial<View['interruptions'][number]>): View {
  const names = ['Deploy', STEP, 'Check health'];
  return {
    id: 'hello-service:production:1.4.2:abc',
    project: 'hello-service',
    projectName: 'Hello service',
    environment: 'production',
    release: '1.4.2',
    status,
    createdAt: '2026-01-01T10:00:00.000Z',
    finishedAt: status === 'Running' || status === 'Waiting' ? null : '2026-01-01T10:02:31.000Z',
    triggeredBy: { id: 'users-100', username: 'ci', displayName: 'CI pipeline' },
    steps: steps.map((s, i) => ({
      name: names[i]!,
      type: i === 1 ? 'manual' : 'script',
      status: s,
      log: i === 0 && s === 'Failed' ? 'Deploying\nThe script exited with code 3.\n' : '',
      startedAt: null,
      finishedAt: null,
    })),
    interruptions: interruption
      ? [{
          id: 'i1', kind: 'Manual', step: STEP, state: 'Pending', instructions: 'Tell the desk.', responsibleTeams: ['release-managers'], assignee: null,
          notes: null, createdAt: '', decidedAt: null, timeoutAt: null, onTimeout: 'abort', ...interruption,
        }]
      : [],
    variables: {},
    timeline: [],
    links: { self: '/api/deployments/hello-service:production:1.4.2:abc', temporal: null },
  };
}

describe('the CLI\'s progress lines', () => {
  it('reads durations as a person writes them', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('300')).toBe(300_000);
    for (const bad of ['', 'soon', '2 h', '1.5h', 'h']) expect(parseDuration(bad)).toBeUndefined();
    expect(formatDuration(151_000)).toBe('2m 31s');
    expect(formatDuration(3 * 3600_000)).toBe('3h');
    expect(formatDuration(0)).toBe('0s');
  });

  it('tells each change once, in process order, with who may act and the exact command', () => {
    const started = view('Running', ['Running', 'Pending', 'Pending']);
    const waiting = view('Waiting', ['Succeeded', 'Waiting', 'Pending'], {});
    const assigned = view('Waiting', ['Succeeded', 'Waiting', 'Pending'], { state: 'Assigned', assignee: jamie });
    const done = view('Succeeded', ['Succeeded', 'Succeeded', 'Succeeded'], { state: 'Proceeded', assignee: jamie, notes: 'Desk informed' });

    expect(changes(undefined, started)).toEqual(['Deploy: Running']);
    expect(changes(started, waiting)).toEqual([
      'Deploy: Succeeded',
      `Waiting at "${STEP}" for a member of release-managers (or an admin) to take responsibility:`,
      `    interlock take ${waiting.id}`,
      '  Instructions:',
      '    Tell the desk.',
    ]);
    expect(changes(waiting, waiting)).toEqual([]);
    expect(changes(waiting, assigned)[0]).toBe(`"${STEP}" is assigned to Jamie Jones (jjones), who decides with:`);
    // The decision comes before the steps it let run.
    expect(changes(assigned, done)).toEqual([`"${STEP}" proceeded by Jamie Jones (jjones): Desk informed`, 'Check health: Succeeded']);
    expect(outcome(done)).toEqual(['Succeeded: Hello service 1.4.2 to production after 2m 31s.']);
  });

  it('shows what is being decided: the previous release, who approved it, what changed, the release notes', () => {
    const waiting = view('Waiting', ['Succeeded', 'Waiting', 'Pending'], {
      context: {
        releaseNotes: 'Fixes the checkout timeout.\n- PAY-142',
        previous: {
          deploymentId: 'hello-service:production:1.4.1:xyz',
          release: '1.4.1',
          finishedAt: '2026-01-01T09:00:00.000Z',
          triggeredBy: 'ci',
          approvedBy: [{ username: 'mlee', displayName: 'Morgan Lee', step: STEP, at: '2026-01-01T08:55:00.000Z' }],
        },
        changedVariables: [
          { name: 'DbPassword', from: '********', to: '********' },
          { name: 'ImageTag', from: '1.4.1', to: '1.4.2' },
        ],
        remaining: { rules: [], mayApprove: ['jjones', 'mlee'] },
      },
    });
    expect(changes(undefined, waiting).slice(2, 8)).toEqual([
      `    interlock take ${waiting.id}`,
      '  Previous: 1.4.1 (by ci, finished 2026-01-01T09:00:00.000Z); approved by Morgan Lee (mlee) at 2026-01-01T08:55:00.000Z',
      '  Changed: DbPassword ******** → ********; ImageTag 1.4.1 → 1.4.2',
      '  Release notes:',
      '    Fixes the checkout timeout.\n    - PAY-142',
      '  Instructions:',
    ]);
  });

  it('after an abort says how it will end, and that it runs on until its remaining steps have ended', () => {
    const assigned = view('Waiting', ['Succeeded', 'Waiting', 'Pending'], { state: 'Assigned', assignee: jamie });
    const aborting = { ...view('Running', ['Succeeded', 'Aborted', 'Running'], { state: 'Aborted', assignee: jamie, notes: 'not today' }), outcome: 'Aborted' as const };
    const aborted = { ...view('Aborted', ['Succeeded', 'Aborted', 'Succeeded'], { state: 'Aborted', assignee: jamie, notes: 'not today' }), outcome: 'Aborted' as const };
    expect(changes(assigned, aborting)).toEqual([
      `"${STEP}" aborted by Jamie Jones (jjones): not today`,
      `${aborting.id} will end Aborted: it is Running until the steps that run after an abort (runCondition: failure, always) have ended.`,
      'Check health: Running',
    ]);
    expect(changes(aborting, aborting)).toEqual([]);
    expect(changes(aborting, aborted)).toEqual(['Check health: Succeeded']);
    expect(renderView(aborting, (path) => `http://x${path}`).split('\n')[0]).toBe(`${aborting.id}  Running (will end Aborted once its remaining steps have run)`);
    expect(renderView(aborted, (path) => `http://x${path}`).split('\n')[0]).toBe(`${aborted.id}  Aborted`);
    expect(outcome(aborted)[0]).toBe('Aborted: Hello service 1.4.2 to production after 2m 31s.');
  });

  it('ends a failed deployment with the failed step and its log', () => {
    const failed = view('Failed', ['Failed', 'Skipped', 'Skipped']);
    expect(outcome(failed)).toEqual([
      'Failed: Hello service 1.4.2 to production at step "Deploy" after 2m 31s.',
      '  Last 2 lines of its log:',
      '    Deploying\n    The script exited with code 3.',
    ]);
  });
});
