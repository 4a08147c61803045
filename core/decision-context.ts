/**
 * The context to decide (docs/change-control.md#the-context-to-decide): what every interruption
 * shows of what is being approved — the trigger's release notes, the previous successful deployment
 * of the same project and environment (who approved it, and when), the variables that changed since,
 * the latest evaluation, and what the approval still needs. Pure: an activity works out the previous
 * deployment when the deployment starts, the workflow puts it on each interruption it opens.
 */
import { type Actor, type Interruption, isOpen, type RemainingApprovals, responsibleOf } from './interruptions.js';
import { MASK } from './masking.js';
import type { TaskResult } from './names.js';
import type { Variables } from './substitution.js';
import type { DeploymentView, StepView } from './views.js';

/** The most release notes a trigger may carry, in characters. */
export const MAX_RELEASE_NOTES = 20_000;

/** Someone whose decision let a manual step or an approval of a deployment go on, and when. */
export interface Approver {
  username: string;
  displayName: string;
  step: string;
  at: string;
}

/** The newest deployment of the same project and environment that succeeded, as it was when it finished. */
export interface PreviousDeployment {
  deploymentId: string;
  release: string;
  finishedAt: string | null;
  /** The username of whoever triggered it. */
  triggeredBy: string;
  /** Oldest first; empty when it went through without anyone's approval. */
  approvedBy: Approver[];
}

/** A variable whose value differs from the previous deployment's; null where one of them had none. Sensitive ones show masked. */
export interface ChangedVariable {
  name: string;
  from: string | null;
  to: string | null;
}

/** What a deployment works out when it starts and keeps in its input: a running deployment keeps what it started with. */
export interface TriggerContext {
  releaseNotes: string | null;
  previous: PreviousDeployment | null;
  changedVariables: ChangedVariable[];
}

/** The deployment's latest evaluation (a step of type evaluation) when the interruption opened. */
export interface EvaluationSummary {
  step: string;
  result: TaskResult;
  score: number;
}

/** What an interruption carries to decide on: the trigger's context, the latest evaluation, and what is still needed. */
export interface DecisionContext extends TriggerContext {
  evaluation?: EvaluationSummary;
  /** With rules, the interruption's own `remaining`; otherwise who may act on it now (no rules); nothing once it is over. */
  remaining: RemainingApprovals;
}

/** The values to compare: a deployment's variables and the names of its sensitive ones. */
export interface VariableSet {
  variables: Variables;
  sensitive?: readonly string[] | undefined;
}

/**
 * The variables whose values differ between the previous deployment and this one, by name (sorted);
 * a variable that is sensitive in either shows `MASK` for each value it had, never its value.
 */
export function changedVariables(before: VariableSet, after: VariableSet): ChangedVariable[] {
  const names = [...new Set([...Object.keys(before.variables), ...Object.keys(after.variables)])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const sensitive = new Set([...(before.sensitive ?? []), ...(after.sensitive ?? [])]);
  const valueOf = (set: VariableSet, name: string) => (Object.hasOwn(set.variables, name) ? set.variables[name]! : null);
  return names.flatMap((name) => {
    const from = valueOf(before, name);
    const to = valueOf(after, name);
    if (from === to) return [];
    const shown = (value: string | null) => (value !== null && sensitive.has(name) ? MASK : value);
    return [{ name, from: shown(from), to: shown(to) }];
  });
}

/**
 * Who approved a deployment: each person whose proceed let one of its manual steps or approvals go
 * on (every approval of a step that needed several), with the step and when, oldest first. An
 * interruption passed by break-glass or by its timeout approves nothing.
 */
export function approversOf(view: Pick<DeploymentView, 'interruptions'>): Approver[] {
  const approvers = view.interruptions.flatMap((interruption): Approver[] => {
    if ((interruption.kind !== 'Manual' && interruption.kind !== 'Approval') || interruption.state !== 'Proceeded') return [];
    const given = interruption.approvals?.length
      ? interruption.approvals.map((approval) => ({ person: approval.user, at: approval.at }))
      : interruption.assignee
        ? [{ person: interruption.assignee, at: interruption.decidedAt ?? interruption.createdAt }]
        : [];
    return given.map(({ person, at }) => ({ username: person.username, displayName: person.displayName, step: interruption.step, at }));
  });
  return approvers.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

/** The previous deployment as the context shows it, from its final view. */
export function previousOf(view: Pick<DeploymentView, 'id' | 'release' | 'finishedAt' | 'triggeredBy' | 'interruptions'>): PreviousDeployment {
  return { deploymentId: view.id, release: view.release, finishedAt: view.finishedAt, triggeredBy: view.triggeredBy.username, approvedBy: approversOf(view) };
}

/** The latest evaluation among the steps (the last evaluated step in process order), if any. */
export function latestEvaluation(steps: readonly StepView[]): EvaluationSummary | undefined {
  const step = steps.findLast((candidate) => candidate.evaluation !== undefined);
  return step?.evaluation ? { step: step.name, result: step.evaluation.result, score: step.evaluation.score } : undefined;
}

/**
 * What is still needed to decide it: with rules, its own `remaining`; without, whom of the roster it
 * is for now (its teams' members, as its emails are addressed; admins may act too; nobody for a
 * `Window`, which opens by itself); nothing once it is over.
 */
export function remainingFor(interruption: Interruption, roster: readonly Actor[]): RemainingApprovals {
  if (!isOpen(interruption)) return { rules: [], mayApprove: [] };
  if (interruption.rules) return interruption.remaining ?? { rules: [], mayApprove: [] };
  if (interruption.kind === 'Window') return { rules: [], mayApprove: [] };
  return { rules: [], mayApprove: responsibleOf(interruption, roster).map((person) => person.username) };
}

/** `1.4.1 (by alice, finished 2025-01-01T09:00:00.000Z), approved by Alice Smith (alice) at …`: the previous deployment in one line. */
export function describePrevious(previous: PreviousDeployment | null, when: (iso: string) => string = (iso) => iso): string {
  if (!previous) return 'none: this is the first successful deployment here';
  const finished = previous.finishedAt ? `, finished ${when(previous.finishedAt)}` : '';
  const approved = previous.approvedBy.length > 0
    ? `; approved by ${previous.approvedBy.map((approver) => `${approver.displayName} (${approver.username}) at ${when(approver.at)}`).join(', ')}`
    : '; nobody approved it';
  return `${previous.release} (by ${previous.triggeredBy}${finished})${approved}`;
}

/** `IMAGE_TAG 1.4.1 → 1.5.0; DB_PASSWORD ******** → ********`: the changed variables in one line. */
export function describeChanges(changes: readonly ChangedVariable[]): string {
  if (changes.length === 0) return 'no variable changed';
  const value = (text: string | null) => (text === null ? '(none)' : text === '' ? '""' : text);
  return changes.map((change) => `${change.name} ${value(change.from)} → ${value(change.to)}`).join('; ');
}
