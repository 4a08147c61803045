/**
 * Break-glass (docs/change-control.md): a member of a policy's override teams lets a deployment past
 * its window, freeze or approvals with a reason; each override is kept for review until an admin
 * marks it reviewed. The rules of who may, what a reason must be, and what an override and a review
 * change. Pure: the workflow, the service, the dashboard and the CLI ask the same rules.
 */
import type { Actor, Interruption, Person } from './interruptions.js';
import type { OverridePart } from './names.js';

/** A reason says why it cannot wait: at least this many characters (after trimming), at most `OVERRIDE_REASON_MAX`. */
export const OVERRIDE_REASON_MIN = 10;
export const OVERRIDE_REASON_MAX = 2000;

/** Undefined when the reason will do; otherwise why not, in the words every front end shows. */
export function overrideReasonProblem(reason: string | undefined): string | undefined {
  const text = reason?.trim() ?? '';
  if (text === '') return `A reason is required to override: say why this cannot wait (at least ${OVERRIDE_REASON_MIN} characters).`;
  if (text.length < OVERRIDE_REASON_MIN) return `A reason must be at least ${OVERRIDE_REASON_MIN} characters; this one is ${text.length}.`;
  if (text.length > OVERRIDE_REASON_MAX) return `A reason may be at most ${OVERRIDE_REASON_MAX} characters; this one is ${text.length}.`;
  return undefined;
}

/** Who passed a gate part by break-glass, why and when; `id` names it in the list of overrides to review. */
export interface Override {
  id: string;
  user: Person;
  reason: string;
  at: string;
}

/** The part of its policy gate an interruption stands for: a `Window` is the window (or freeze), an `Approval` the approvals. */
export const overridePartOf = (interruption: Pick<Interruption, 'kind'>): OverridePart => (interruption.kind === 'Window' ? 'window' : 'approvals');

const OPEN = ['Pending', 'Assigned'];

/** Whether the actor may break glass on it now: it is a policy gate's open window or approvals, and they are in one of its override teams (admins only as members). */
export function mayOverride(interruption: Pick<Interruption, 'kind' | 'state' | 'overrideTeams'>, actor: Pick<Actor, 'teams'>): boolean {
  if (!OPEN.includes(interruption.state) || (interruption.kind !== 'Window' && interruption.kind !== 'Approval')) return false;
  const teams = interruption.overrideTeams ?? [];
  return actor.teams.some((team) => teams.includes(team));
}

export type OverrideRefusal = 'NOT_OVERRIDABLE' | 'NOT_OVERRIDER' | 'ALREADY_DECIDED' | 'BAD_REQUEST';

export type OverrideDecision =
  | { accepted: true; interruption: Interruption; override: Override }
  | { accepted: false; refusal: OverrideRefusal; detail: string };

const describe = (person: Person) => `${person.displayName} (${person.username})`;

/**
 * An override of `interruption` by `actor`: refused (in this order) when it is over, when it is no
 * policy gate's window or approvals, when the actor is in none of its override teams, when the
 * reason will not do; else the interruption ends `Overridden`, carrying who, why and when.
 */
export function overrideInterruption(interruption: Interruption, actor: Actor, reason: string | undefined, now: string, id: string): OverrideDecision {
  const refuse = (refusal: OverrideRefusal, detail: string): OverrideDecision => ({ accepted: false, refusal, detail });
  if (!OPEN.includes(interruption.state)) {
    return refuse('ALREADY_DECIDED', `"${interruption.step}" is already over (${interruption.state}); there is nothing to override.`);
  }
  if (interruption.overrideTeams === undefined || (interruption.kind !== 'Window' && interruption.kind !== 'Approval')) {
    return refuse('NOT_OVERRIDABLE', `"${interruption.step}" is not a policy gate's window or approvals; only those can be overridden.`);
  }
  if (!mayOverride(interruption, actor)) {
    const teams = interruption.overrideTeams;
    const who = teams.length > 0 ? `members of ${teams.join(', ')}` : 'nobody (its policy names no override teams)';
    return refuse('NOT_OVERRIDER', `${describe(actor)} may not override "${interruption.step}": only ${who} may. Nothing was changed.`);
  }
  const problem = overrideReasonProblem(reason);
  if (problem !== undefined) return refuse('BAD_REQUEST', problem);
  const person: Person = actor.email === undefined
    ? { id: actor.id, username: actor.username, displayName: actor.displayName }
    : { id: actor.id, username: actor.username, displayName: actor.displayName, email: actor.email };
  const override: Override = { id, user: person, reason: reason!.trim(), at: now };
  return { accepted: true, override, interruption: { ...interruption, state: 'Overridden', decidedAt: now, override } };
}

/** An override as the list of overrides to review keeps it (`GET /api/overrides`). */
export interface OverrideRecord {
  id: string;
  deploymentId: string;
  interruptionId: string;
  part: OverridePart;
  user: Person;
  reason: string;
  at: string;
  reviewed: { user: Person; at: string; notes: string | null } | null;
  /** What was overridden, for the reader: the deployment's project, environment and release, and the policy gate's step. */
  project?: string;
  environment?: string;
  release?: string;
  step?: string;
}

export type ReviewOutcome = { ok: true; record: OverrideRecord } | { ok: false; refusal: 'ALREADY_REVIEWED'; detail: string };

/** Marks an override reviewed by `user`, once: a second review is refused, naming the first. */
export function reviewOverride(record: OverrideRecord, user: Person, notes: string | null, now: string): ReviewOutcome {
  if (record.reviewed) {
    return { ok: false, refusal: 'ALREADY_REVIEWED', detail: `This override was already reviewed by ${describe(record.reviewed.user)} at ${record.reviewed.at}; nothing was changed.` };
  }
  return { ok: true, record: { ...record, reviewed: { user, at: now, notes } } };
}
