import { describe, expect, it } from 'vitest';
import {
  actionsFor,
  type Actor,
  decide,
  type Decision,
  type Interruption,
  type InterruptionAction,
  isActionableBy,
  MAX_NOTES,
  mayAct,
  mayTakeResponsibility,
  notesProblem,
  type Person,
  type RefusalType,
  isOpen,
  responsibleOf,
  timeOut,
} from '../../core/interruptions.js';

const STEP = 'Ensure traders are aware of the deployment';
const CREATED = '2025-01-01T09:00:00.000Z';
const NOW = '2025-01-01T10:00:00.000Z';

/** Whoever holds the step when it is "assigned to someone else"; never one of the callers below. */
const jamie: Person = { id: 'users-237', username: 'jjones', displayName: 'Jamie Jones', email: 'jamie.jones@example.com' };
const JAMIE = 'Jamie Jones (jjones)';

const actor = (id: string, username: string, displayName: string, teams: string[], roles: Actor['roles']): Actor => ({
  id,
  username,
  displayName,
  email: `${username}@example.com`,
  teams,
  roles,
});

/**
 * Every kind of caller, with whether docs/manual-steps.md lets them take responsibility, written out by hand
 * (not computed) so that the expectations do not restate the implementation.
 */
const callers = [
  { kind: 'team member', who: actor('users-1', 'mlee', 'Morgan Lee', ['release-managers'], ['deployer']), withTeams: true, withoutTeams: true },
  { kind: 'team member who is only a viewer', who: actor('users-2', 'vhall', 'Val Hall', ['release-managers'], ['viewer']), withTeams: true, withoutTeams: false },
  { kind: 'member of another team', who: actor('users-3', 'sstone', 'Sam Stone', ['developers'], ['deployer']), withTeams: false, withoutTeams: true },
  { kind: 'outsider in no team', who: actor('users-4', 'oout', 'Olly Out', [], ['viewer']), withTeams: false, withoutTeams: false },
  { kind: 'admin', who: actor('users-5', 'aadmin', 'Ada Admin', [], ['admin']), withTeams: true, withoutTeams: true },
  { kind: 'deployer in no team', who: actor('users-6', 'dploy', 'Dee Ploy', [], ['deployer']), withTeams: false, withoutTeams: true },
  { kind: 'viewer in no team', who: actor('users-7', 'vview', 'Vic Viewer', [], ['viewer']), withTeams: false, withoutTeams: false },
] as const;
type Caller = (typeof callers)[number];

const states = ['Pending', 'Assigned to caller', 'Assigned to someone else', 'Proceeded', 'Aborted', 'TimedOut'] as const;
type Scenario = (typeof states)[number];

const teamSetups = [
  { label: 'responsibleTeams [release-managers]', teams: ['release-managers'] },
  { label: 'no responsibleTeams', teams: [] as string[] },
] as const;

const actions = [
  { label: 'takeResponsibility', action: { type: 'takeResponsibility' } },
  { label: 'takeResponsibility with takeOver', action: { type: 'takeResponsibility', takeOver: true } },
  { label: 'proceed', action: { type: 'proceed', notes: 'Checked with Rick, got the all-clear.' } },
  { label: 'abort', action: { type: 'abort', notes: 'The desk asked us to wait.' } },
] as const satisfies readonly { label: string; action: InterruptionAction }[];

function interruption(overrides: Partial<Interruption> = {}): Interruption {
  return {
    id: 'int-1',
    kind: 'Manual',
    step: STEP,
    state: 'Pending',
    instructions: 'Tell the trading desk that 1.4.2 goes live.',
    responsibleTeams: ['release-managers'],
    assignee: null,
    notes: null,
    createdAt: CREATED,
    decidedAt: null,
    timeoutAt: null,
    onTimeout: 'abort',
    ...overrides,
  };
}

const personOf = ({ id, username, displayName, email }: Actor): Person => ({ id, username, displayName, email });

function build(scenario: Scenario, caller: Actor, responsibleTeams: string[]): Interruption {
  const base = { responsibleTeams: [...responsibleTeams] };
  switch (scenario) {
    case 'Pending':
      return interruption(base);
    case 'Assigned to caller':
      return interruption({ ...base, state: 'Assigned', assignee: personOf(caller) });
    case 'Assigned to someone else':
      return interruption({ ...base, state: 'Assigned', assignee: jamie });
    case 'Proceeded':
    case 'Aborted':
      return interruption({ ...base, state: scenario, assignee: jamie, notes: 'done', decidedAt: CREATED });
    case 'TimedOut':
      return interruption({ ...base, state: 'TimedOut', decidedAt: CREATED });
  }
}

type Expected = 'accepted' | 'unchanged' | 'took over' | RefusalType;

/** The contract of docs/manual-steps.md, stated case by case. */
function expectedOutcome(label: (typeof actions)[number]['label'], scenario: Scenario, permitted: boolean): Expected {
  if (scenario === 'Proceeded' || scenario === 'Aborted' || scenario === 'TimedOut') return 'ALREADY_DECIDED';
  if (label.startsWith('takeResponsibility')) {
    if (!permitted) return 'NOT_IN_TEAM';
    if (scenario === 'Pending') return 'accepted';
    if (scenario === 'Assigned to caller') return 'unchanged';
    return label === 'takeResponsibility' ? 'HELD_BY_OTHER' : 'took over';
  }
  // proceed / abort: only the assignee; anyone else is told what they could do about it.
  if (scenario === 'Assigned to caller') return 'accepted';
  if (!permitted) return 'NOT_IN_TEAM';
  return scenario === 'Pending' ? 'NOT_TAKEN' : 'NOT_ASSIGNEE';
}

/** Words in the refusal's detail that tell the person what is going on and what to do. */
function expectedDetail(refusal: RefusalType, caller: Caller, scenario: Scenario, teams: readonly string[]): string[] {
  switch (refusal) {
    case 'NOT_IN_TEAM':
      return [`${caller.who.displayName} (${caller.who.username})`, STEP, teams.length > 0 ? 'release-managers' : 'deployers', 'admin'];
    case 'NOT_AN_OPTION':
      return [STEP, 'proceed or abort'];
    case 'HELD_BY_OTHER':
      return [JAMIE, 'take it over'];
    case 'NOT_TAKEN':
      return [STEP, 'take responsibility first'];
    case 'NOT_ASSIGNEE':
      return [JAMIE, 'take it over'];
    case 'ALREADY_DECIDED':
      return [STEP, scenario, ...(scenario === 'TimedOut' ? [] : [JAMIE])];
    case 'NOTES_TOO_LONG':
      return [String(MAX_NOTES)];
    case 'SELF_APPROVAL':
      return [`${caller.who.displayName} (${caller.who.username})`, 'triggered', STEP, 'someone else'];
    case 'ALREADY_APPROVED':
      return [`${caller.who.displayName} (${caller.who.username})`, 'already approved', STEP];
    // Refusals of approval rules and inputs, which the steps of this matrix do not have (tests/unit/approval-rules.test.ts).
    case 'NOT_YOUR_TURN':
    case 'RULE_ALREADY_MET':
      return [STEP];
    case 'INVALID_INPUTS':
      return ['Invalid inputs'];
    case 'INVALID_RUN_AT':
      return ['runAt'];
  }
}

const matrix = actions.flatMap(({ label, action }) =>
  states.flatMap((scenario) =>
    teamSetups.flatMap(({ label: teamsLabel, teams }) =>
      callers.map((caller) => {
        const permitted = teams.length > 0 ? caller.withTeams : caller.withoutTeams;
        return { label, action, scenario, teamsLabel, teams, caller, expected: expectedOutcome(label, scenario, permitted) };
      }),
    ),
  ),
);

describe('decide: every action × state × caller × team setup', () => {
  it('covers the whole product', () => {
    expect(matrix).toHaveLength(actions.length * states.length * teamSetups.length * callers.length);
    // Every outcome the contract names shows up somewhere in the matrix.
    expect(new Set(matrix.map((row) => row.expected))).toEqual(
      new Set(['accepted', 'unchanged', 'took over', 'NOT_IN_TEAM', 'HELD_BY_OTHER', 'NOT_TAKEN', 'NOT_ASSIGNEE', 'ALREADY_DECIDED']),
    );
  });

  it.each(matrix)(
    '$label on $scenario ($teamsLabel) by a $caller.kind → $expected',
    ({ action, scenario, teams, caller, expected }) => {
      const before = build(scenario, caller.who, [...teams]);
      const snapshot = structuredClone(before);
      const decision = decide(before, caller.who, action, NOW);

      // Pure: the input is never mutated, whatever the outcome.
      expect(before).toEqual(snapshot);

      if (expected === 'accepted' || expected === 'unchanged' || expected === 'took over') {
        expect(decision).toMatchObject({ accepted: true });
        if (!decision.accepted) return;
        const after = decision.interruption;
        if (action.type === 'takeResponsibility') {
          expect(after.state).toBe('Assigned');
          expect(after.assignee).toEqual(personOf(caller.who));
          // The assignee is a person, not the caller's roles and teams.
          expect(after.assignee).not.toHaveProperty('roles');
          expect(after.assignee).not.toHaveProperty('teams');
          expect(decision.changed).toBe(expected !== 'unchanged');
          expect(decision.tookOverFrom).toEqual(expected === 'took over' ? jamie : null);
          if (expected === 'unchanged') expect(after).toEqual(before);
        } else {
          expect(decision.changed).toBe(true);
          expect(decision.tookOverFrom).toBeNull();
          expect(after.state).toBe(action.type === 'proceed' ? 'Proceeded' : 'Aborted');
          expect(after.notes).toBe(action.notes);
          expect(after.decidedAt).toBe(NOW);
          expect(after.assignee).toEqual(before.assignee);
        }
        expect(after.decidedAt === null).toBe(action.type === 'takeResponsibility');
        return;
      }

      expect(decision).toMatchObject({ accepted: false, refusal: expected });
      if (decision.accepted) return;
      for (const words of expectedDetail(expected, caller, scenario, teams)) expect(decision.detail).toContain(words);
    },
  );
});

describe('decide: particular cases', () => {
  const member = callers[0].who;
  const other = callers[4].who; // the admin, a second person allowed to act

  it('taking it again as the holder changes nothing, with or without takeOver', () => {
    const held = interruption({ state: 'Assigned', assignee: personOf(member) });
    for (const action of [{ type: 'takeResponsibility' }, { type: 'takeResponsibility', takeOver: true }] as const) {
      const decision = decide(held, member, action, NOW);
      expect(decision).toEqual({ accepted: true, changed: false, tookOverFrom: null, interruption: held });
    }
  });

  it('a take-over records whom it was taken from and makes the caller the one assignee', () => {
    const held = interruption({ state: 'Assigned', assignee: jamie });
    const decision = decide(held, member, { type: 'takeResponsibility', takeOver: true }, NOW);
    expect(decision).toEqual({
      accepted: true,
      changed: true,
      tookOverFrom: jamie,
      interruption: { ...held, assignee: personOf(member) },
    });
  });

  it('takeOver on a pending interruption is a plain take: nobody was taken over', () => {
    const decision = decide(interruption(), member, { type: 'takeResponsibility', takeOver: true }, NOW);
    expect(decision).toMatchObject({ accepted: true, changed: true, tookOverFrom: null, interruption: { state: 'Assigned' } });
  });

  it('after a take-over the former holder may no longer proceed', () => {
    const held = interruption({ state: 'Assigned', assignee: jamie });
    const taken = decide(held, member, { type: 'takeResponsibility', takeOver: true }, NOW);
    if (!taken.accepted) throw new Error(taken.detail);
    const jamieActor: Actor = { ...jamie, teams: ['release-managers'], roles: ['deployer'] };
    const decision = decide(taken.interruption, jamieActor, { type: 'proceed' }, NOW);
    expect(decision).toMatchObject({ accepted: false, refusal: 'NOT_ASSIGNEE' });
    if (!decision.accepted) expect(decision.detail).toContain('Morgan Lee (mlee)');
  });

  it('an assignee without an email is recorded without one', () => {
    const { email: _email, ...noEmail } = member;
    const decision = decide(interruption(), noEmail, { type: 'takeResponsibility' }, NOW);
    expect(decision.accepted && decision.interruption.assignee).toEqual({ id: member.id, username: 'mlee', displayName: 'Morgan Lee' });
  });

  it('proceed without notes records notes as null', () => {
    const held = interruption({ state: 'Assigned', assignee: personOf(member) });
    const decision = decide(held, member, { type: 'proceed' }, NOW);
    expect(decision).toMatchObject({ accepted: true, interruption: { state: 'Proceeded', notes: null, decidedAt: NOW } });
  });

  it('a step decided once cannot be decided again, not even by whoever decided it', () => {
    const held = interruption({ state: 'Assigned', assignee: personOf(member) });
    const proceeded = decide(held, member, { type: 'proceed' }, NOW);
    if (!proceeded.accepted) throw new Error(proceeded.detail);
    for (const action of actions.map((a) => a.action)) {
      expect(decide(proceeded.interruption, member, action, NOW)).toMatchObject({ accepted: false, refusal: 'ALREADY_DECIDED' });
    }
  });

  describe.each(['proceed', 'abort'] as const)('%s notes', (type) => {
    const held = interruption({ state: 'Assigned', assignee: personOf(member) });

    it(`accepts ${MAX_NOTES} characters and keeps them whole`, () => {
      const notes = 'n'.repeat(4000);
      const decision = decide(held, member, { type, notes }, NOW);
      expect(decision).toMatchObject({ accepted: true, interruption: { notes } });
    });

    it('refuses 4001 characters, saying the limit and the length, and changes nothing', () => {
      const decision: Decision = decide(held, member, { type, notes: 'n'.repeat(4001) }, NOW);
      expect(decision).toMatchObject({ accepted: false, refusal: 'NOTES_TOO_LONG' });
      if (!decision.accepted) {
        expect(decision.detail).toContain('4000');
        expect(decision.detail).toContain('4001');
      }
    });

    it('an empty note is kept as given', () => {
      expect(decide(held, member, { type, notes: '' }, NOW)).toMatchObject({ accepted: true, interruption: { notes: '' } });
    });

    it('someone other than the assignee is refused whatever the notes', () => {
      expect(decide(held, other, { type, notes: 'ok' }, NOW)).toMatchObject({ accepted: false, refusal: 'NOT_ASSIGNEE' });
    });
  });
});

describe('notesProblem: the one notes rule every front end asks', () => {
  it('takes no notes, empty notes and notes up to the limit on every decision', () => {
    for (const notes of [undefined, '', 'n'.repeat(MAX_NOTES)]) expect(notesProblem(notes)).toBeUndefined();
  });

  it('refuses longer notes, saying the limit and the length, in the words decide uses too', () => {
    const problem = notesProblem('n'.repeat(MAX_NOTES + 1));
    expect(problem).toBe('Notes may be at most 4000 characters; these are 4001.');
    const held = interruption({ kind: 'GuidedFailure', state: 'Assigned', assignee: jamie });
    const jamieActs = { ...jamie, teams: [], roles: ['deployer'] } satisfies Actor;
    for (const type of ['retry', 'ignore', 'fail'] as const) {
      expect(decide(held, jamieActs, { type }, NOW)).toMatchObject({ accepted: true });
      expect(decide(held, jamieActs, { type, notes: 'n'.repeat(MAX_NOTES + 1) }, NOW)).toEqual({ accepted: false, refusal: 'NOTES_TOO_LONG', detail: problem });
    }
  });
});

describe('timeOut', () => {
  it.each([
    ['Pending', interruption()],
    ['Assigned', interruption({ state: 'Assigned', assignee: jamie })],
  ] as const)('ends an open (%s) interruption TimedOut at the given time, keeping the assignee', (_state, open) => {
    expect(timeOut(open, NOW)).toEqual({ ...open, state: 'TimedOut', decidedAt: NOW });
  });

  it.each(['Proceeded', 'Aborted', 'TimedOut'] as const)('leaves a %s interruption exactly as it was', (state) => {
    const decided = interruption({ state, assignee: jamie, notes: 'done', decidedAt: CREATED });
    expect(timeOut(decided, NOW)).toEqual(decided);
  });
});

describe('mayTakeResponsibility and isActionableBy', () => {
  const cases = teamSetups.flatMap(({ label, teams }) =>
    callers.map((caller) => ({ label, teams, caller, may: teams.length > 0 ? caller.withTeams : caller.withoutTeams })),
  );

  it.each(cases)('$caller.kind with $label: may take = $may', ({ teams, caller, may }) => {
    expect(mayTakeResponsibility(interruption({ responsibleTeams: [...teams] }), caller.who)).toBe(may);
  });

  it.each(cases)('$caller.kind with $label: actionable while open, never once decided', ({ teams, caller, may }) => {
    const responsibleTeams = [...teams];
    expect(isActionableBy(interruption({ responsibleTeams }), caller.who)).toBe(may);
    expect(isActionableBy(interruption({ responsibleTeams, state: 'Assigned', assignee: jamie }), caller.who)).toBe(may);
    // Whoever holds it can still proceed or abort, so it is theirs to act on.
    expect(isActionableBy(interruption({ responsibleTeams, state: 'Assigned', assignee: personOf(caller.who) }), caller.who)).toBe(true);
    for (const state of ['Proceeded', 'Aborted', 'TimedOut'] as const) {
      expect(isActionableBy(interruption({ responsibleTeams, state, assignee: personOf(caller.who) }), caller.who)).toBe(false);
    }
  });
});

describe('mayAct: who the service lets through to the workflow', () => {
  const morgan = callers[0].who;
  const sam = callers[2].who;
  const escalating = { responsibleTeams: ['release-managers'], escalateTo: ['developers'], escalateAt: NOW };

  it('the holder, even after leaving the responsible team; whoever may take it; nobody else', () => {
    const left = { ...morgan, teams: ['developers'] };
    expect(mayAct(interruption({ state: 'Assigned', assignee: personOf(morgan) }), left)).toBe(true);
    expect(mayAct(interruption(), morgan)).toBe(true);
    expect(mayAct(interruption({ state: 'Assigned', assignee: jamie }), morgan)).toBe(true);
    expect(mayAct(interruption(), left)).toBe(false);
  });

  it('counts an escalation from the clock when given one (a cached responsibility), from the workflow\'s flag otherwise', () => {
    expect(mayAct(escalating, sam)).toBe(false);
    expect(mayAct(escalating, sam, '2025-01-01T09:59:59.999Z')).toBe(false);
    expect(mayAct(escalating, sam, NOW)).toBe(true);
    expect(mayAct({ ...escalating, escalated: true }, sam)).toBe(true);
  });
});

describe('responsibleOf: whom an interruption is for (an email channel\'s `responsible`)', () => {
  const everyone = callers.map((caller) => caller.who);
  const usernames = (people: readonly Actor[]) => people.map((person) => person.username);
  const escalation = { escalateTo: ['developers'], escalateAt: CREATED };
  // Written out by hand from docs/notifications.md, not computed.
  const cases = [
    { label: 'responsibleTeams [release-managers]', fields: { responsibleTeams: ['release-managers'] }, expected: ['mlee', 'vhall'] },
    { label: 'no responsibleTeams: the deployers and admins', fields: { responsibleTeams: [] }, expected: ['mlee', 'sstone', 'aadmin', 'dploy'] },
    {
      label: '[release-managers], escalated to developers',
      fields: { responsibleTeams: ['release-managers'], ...escalation, escalated: true },
      expected: ['mlee', 'vhall', 'sstone'],
    },
    { label: '[release-managers], its escalation still to come', fields: { responsibleTeams: ['release-managers'], ...escalation }, expected: ['mlee', 'vhall'] },
    { label: 'no responsibleTeams, escalated to developers', fields: { responsibleTeams: [], ...escalation, escalated: true }, expected: ['sstone'] },
  ] satisfies { label: string; fields: Partial<Interruption>; expected: string[] }[];

  it.each(cases)('$label', ({ fields, expected }) => {
    expect(usernames(responsibleOf(interruption(fields), everyone))).toEqual(expected);
  });

  it.each(cases)('$label: never whoever it excludes, and nobody else is left out for it', ({ fields, expected }) => {
    for (const excluded of everyone) {
      const found = responsibleOf(interruption({ ...fields, excludedUserIds: [excluded.id] }), everyone);
      expect(usernames(found)).toEqual(expected.filter((username) => username !== excluded.username));
    }
  });

  it.each(cases)('$label: everyone it is for may act on it, as the one-click links and the API agree', ({ fields }) => {
    const open = interruption(fields);
    for (const person of responsibleOf(open, everyone)) {
      expect(isActionableBy(open, person), person.username).toBe(true);
      expect(actionsFor(open, person), person.username).toEqual(['takeResponsibility']);
    }
  });
});

describe('actionsFor: the buttons and the API\'s actions, one rule', () => {
  const morgan = callers[0].who;
  const personOfMorgan: Person = { id: morgan.id, username: morgan.username, displayName: morgan.displayName, email: morgan.email! };

  it('offers take to whoever may take a pending one, take-over of one someone else holds, nothing to others', () => {
    const teams = ['release-managers'];
    expect(actionsFor(interruption({ responsibleTeams: teams }), morgan)).toEqual(['takeResponsibility']);
    expect(actionsFor(interruption({ responsibleTeams: teams, state: 'Assigned', assignee: jamie }), morgan)).toEqual(['takeOver']);
    expect(actionsFor(interruption({ responsibleTeams: teams }), callers[3].who)).toEqual([]);
  });

  it('the assignee may proceed or abort even after leaving the responsible team, as the workflow allows', () => {
    const left = { ...morgan, teams: ['developers'] };
    const held = interruption({ responsibleTeams: ['release-managers'], state: 'Assigned', assignee: personOfMorgan });
    expect(actionsFor(held, left)).toEqual(['proceed', 'abort']);
    expect(decide(held, left, { type: 'proceed' }, NOW).accepted).toBe(true);
  });

  it('offers nothing once decided', () => {
    for (const state of ['Proceeded', 'Aborted', 'TimedOut'] as const) {
      expect(actionsFor(interruption({ state, assignee: personOfMorgan }), morgan)).toEqual([]);
    }
  });
});

describe('preventSelfApproval: whoever triggered it may not take it', () => {
  const morgan = callers[0].who;
  const admin = callers[4].who;
  const excluded = (who: Actor) => interruption({ responsibleTeams: ['release-managers'], excludedUserIds: [who.id] });

  it('refuses the one who triggered, by name, even an admin or a team member', () => {
    for (const who of [morgan, admin]) {
      const decision = decide(excluded(who), who, { type: 'takeResponsibility' }, NOW);
      expect(decision).toMatchObject({ accepted: false, refusal: 'SELF_APPROVAL' });
      if (!decision.accepted) expect(decision.detail).toContain(`${who.displayName} (${who.username}) triggered this deployment`);
      expect(mayTakeResponsibility(excluded(who), who)).toBe(false);
      expect(actionsFor(excluded(who), who)).toEqual([]);
    }
  });

  it('lets everyone else in the team take it as before', () => {
    expect(decide(excluded(admin), morgan, { type: 'takeResponsibility' }, NOW)).toMatchObject({ accepted: true });
    expect(actionsFor(excluded(admin), morgan)).toEqual(['takeResponsibility']);
  });

  it('answers a decision straight from the one who triggered with SELF_APPROVAL too, not "not in the team"', () => {
    expect(decide(excluded(morgan), morgan, { type: 'proceed' }, NOW)).toMatchObject({ accepted: false, refusal: 'SELF_APPROVAL' });
  });
});

describe('preventSelfApproval covers guided failure: retry and ignore let the deployment go on', () => {
  const morgan = callers[0].who;
  const admin = callers[4].who;
  const deployer = callers[5].who;
  // A failed step of a project with preventSelfApproval: any deployer may decide, but not whoever triggered.
  const failed = (triggeredBy: Actor) => interruption({ kind: 'GuidedFailure', responsibleTeams: [], excludedUserIds: [triggeredBy.id] });

  it('refuses the one who triggered every way in: take, take over, retry, ignore, fail', () => {
    for (const who of [deployer, admin]) {
      const held = { ...failed(who), state: 'Assigned' as const, assignee: { id: morgan.id, username: morgan.username, displayName: morgan.displayName } };
      const attempts: [Interruption, InterruptionAction][] = [
        [failed(who), { type: 'takeResponsibility' }],
        [held, { type: 'takeResponsibility', takeOver: true }],
        [held, { type: 'retry' }],
        [held, { type: 'ignore', notes: 'my own test, known flake' }],
        [failed(who), { type: 'fail' }],
      ];
      for (const [target, action] of attempts) {
        const decision = decide(target, who, action, NOW);
        expect(decision, `${who.username} ${action.type}`).toMatchObject({ accepted: false, refusal: 'SELF_APPROVAL' });
        if (!decision.accepted) expect(decision.detail).toBe(`${who.displayName} (${who.username}) triggered this deployment, and "${STEP}" needs someone else to decide whether it is retried, ignored or failed.`);
      }
      expect(actionsFor(failed(who), who)).toEqual([]);
      expect(isActionableBy(failed(who), who)).toBe(false);
    }
  });

  it('lets another deployer take it and ignore the failure', () => {
    const taken = decide(failed(deployer), morgan, { type: 'takeResponsibility' }, NOW);
    if (!taken.accepted) throw new Error(taken.detail);
    expect(actionsFor(taken.interruption, morgan)).toEqual(['retry', 'ignore', 'fail']);
    expect(decide(taken.interruption, morgan, { type: 'ignore', notes: 'known flake' }, NOW)).toMatchObject({ accepted: true, interruption: { state: 'Ignored' } });
  });
});

describe('requiredApprovals: distinct people, each taking and proceeding', () => {
  const [morgan, , , , admin] = [callers[0].who, callers[1].who, callers[2].who, callers[3].who, callers[4].who];
  const person = (who: Actor): Person => ({ id: who.id, username: who.username, displayName: who.displayName, email: who.email! });
  const two = interruption({ responsibleTeams: ['release-managers'], requiredApprovals: 2, approvals: [] });

  it('returns to Pending after the first approval, records it, and closes on the second', () => {
    const taken = decide(two, morgan, { type: 'takeResponsibility' }, NOW);
    if (!taken.accepted) throw new Error(taken.detail);
    const first = decide(taken.interruption, morgan, { type: 'proceed', notes: 'looks good' }, NOW);
    if (!first.accepted) throw new Error(first.detail);
    expect(first.interruption).toMatchObject({ state: 'Pending', assignee: null, approvals: [{ user: person(morgan), at: NOW, notes: 'looks good' }] });
    expect(isOpen(first.interruption)).toBe(true);

    const again = decide(first.interruption, morgan, { type: 'takeResponsibility' }, NOW);
    expect(again).toMatchObject({ accepted: false, refusal: 'ALREADY_APPROVED' });
    if (!again.accepted) expect(again.detail).toContain('needs 1 more, from someone else');

    const second = decide(first.interruption, admin, { type: 'takeResponsibility' }, NOW);
    if (!second.accepted) throw new Error(second.detail);
    const closed = decide(second.interruption, admin, { type: 'proceed', notes: 'second pair of eyes' }, NOW);
    if (!closed.accepted) throw new Error(closed.detail);
    expect(closed.interruption).toMatchObject({ state: 'Proceeded', assignee: person(admin), notes: 'second pair of eyes', decidedAt: NOW });
    expect(closed.interruption.approvals!.map((a) => a.user.username)).toEqual([morgan.username, admin.username]);
  });

  it('one abort ends it, whatever came before', () => {
    const taken = decide(two, morgan, { type: 'takeResponsibility' }, NOW);
    if (!taken.accepted) throw new Error(taken.detail);
    const aborted = decide(taken.interruption, morgan, { type: 'abort', notes: 'no' }, NOW);
    expect(aborted).toMatchObject({ accepted: true, interruption: { state: 'Aborted', notes: 'no' } });
  });
});
