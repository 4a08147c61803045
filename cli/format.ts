import { formatDuration, parseDuration as parseConfigDuration } from '../core/durations.js';
import { describeOpening } from '../core/deployment-windows.js';
import type { DeploymentSummary, DeploymentWithLinks, OpenInterruption } from '../service/deployments.js';
import { isOpen, teamsOf } from '../core/interruptions.js';
import { progressLines, stillNeeded } from '../core/approval-rules.js';
import { describeDeclared } from '../core/approver-inputs.js';
import { describeChanges, describePrevious } from '../core/decision-context.js';
import type { Interruption } from '../core/interruptions.js';
import type { DeploymentStatus } from '../core/names.js';
import type { StepView } from '../core/views.js';
import { isFinished } from '../core/names.js';

/** The deployment view as the API returns it. */
export type View = DeploymentWithLinks;
export type { DeploymentSummary, DeploymentStatus, Interruption, OpenInterruption };
export { formatDuration, isFinished, isOpen };

/** A duration as the CLI's flags take it: the config's grammar, or a bare number of seconds. */
export const parseDuration = (text: string) => parseConfigDuration(text, { bareSeconds: true });
export const openInterruption = (view: View) => view.interruptions.filter(isOpen).at(-1);

const person = (p: { displayName: string; username: string }) => `${p.displayName} (${p.username})`;
const quote = (text: string) => `"${text.replaceAll('"', '\\"')}"`;
const indent = (text: string, by = '    ') => text.trimEnd().split('\n').map((line) => `${by}${line}`).join('\n');

/** The commands that decide an interruption of this kind (docs/manual-steps.md). */
export const decisionCommands = (interruption: Pick<Interruption, 'kind'>, id: string): string[] =>
  interruption.kind === 'Window'
    ? []
    : interruption.kind === 'GuidedFailure'
    ? [`interlock retry ${id}`, `interlock ignore ${id} --notes "…"`, `interlock fail ${id} --notes "…"`]
    : interruption.kind === 'Approval'
      ? [`interlock approve ${id} --notes "…"`, `interlock decline ${id} --notes "…"`]
      : [`interlock proceed ${id} --notes "…"`, `interlock abort ${id} --notes "…"`];

/** An open interruption's approval rules and what it asks whoever proceeds, as lines under it. */
function rulesAndInputs(interruption: Interruption): string[] {
  const lines: string[] = [];
  if (interruption.rules && !interruption.requiredApprovals) {
    lines.push(`  Approval rules${interruption.ordered ? ', in order' : ''}: ${progressLines(interruption).join('; ')}`);
    const may = interruption.remaining?.mayApprove ?? [];
    lines.push(`  May approve now: ${may.length > 0 ? may.join(', ') : 'nobody the open rules name'} (or an admin)`);
  }
  if (interruption.inputs?.length) {
    lines.push(`  Proceed with ${interruption.inputs.map((input) => `--input ${input.name}=…`).join(' ')}: ${describeDeclared(interruption.inputs)}`);
  }
  return lines;
}

/** The most of the release notes `status` prints; --json has them all. */
const NOTES_SHOWN = 2000;

/** What is being decided (docs/change-control.md#the-context-to-decide): the previous deployment, what changed, the release notes. */
function contextLines(interruption: Interruption): string[] {
  const { context } = interruption;
  if (!context) return [];
  const notes = context.releaseNotes?.trim() ?? '';
  const shown = notes.length > NOTES_SHOWN ? `${notes.slice(0, NOTES_SHOWN)}… (cut; --json shows them all)` : notes;
  return [
    `  Previous: ${describePrevious(context.previous)}`,
    ...(context.previous ? [`  Changed: ${describeChanges(context.changedVariables)}`] : []),
    ...(context.evaluation ? [`  Evaluation: ${context.evaluation.step}: ${context.evaluation.result} (score ${context.evaluation.score})`] : []),
    ...(shown ? ['  Release notes:', indent(shown)] : []),
  ];
}

/** After an approval that leaves rules unmet: what it still needs, and where to see who may give it. */
export const stillWaiting = (interruption: Interruption, id: string): string =>
  `Your approval counts; it still needs ${interruption.rules ? stillNeeded(interruption) : 'more approvals'}, from someone else: interlock status ${id}`;

/** Who may act on an interruption, and the exact command for the next move. */
export function interruptionLines(interruption: Interruption, id: string): string[] {
  if (interruption.kind === 'Window' && isOpen(interruption)) return windowLines(interruption, id);
  if (interruption.state === 'WindowOpened') return [`${quote(interruption.step)}: its deployment window opened; the deployment goes on`];
  if (interruption.state === 'Overridden' && interruption.override) {
    const { user, reason } = interruption.override;
    return [`${quote(interruption.step)} overridden by ${person(user)} (break-glass): ${reason}`];
  }
  const teams = teamsOf(interruption);
  const who = teams.length > 0 ? `a member of ${teams.join(' or ')}` : 'any deployer';
  const approvals = interruption.requiredApprovals ? ` (approval ${(interruption.approvals?.length ?? 0) + 1} of ${interruption.requiredApprovals})` : '';
  switch (interruption.state) {
    case 'Pending':
      // An approval is taken and decided in one go, as Keptn's approval.finished does.
      return interruption.kind === 'Approval'
        ? [
            `Waiting for approval at ${quote(interruption.step)} by ${who} (or an admin)${approvals}:`,
            `    ${decisionCommands(interruption, id).join('    or    ')}`,
            ...rulesAndInputs(interruption),
            ...contextLines(interruption),
            ...(interruption.instructions.trim() ? ['  Instructions:', indent(interruption.instructions)] : []),
          ]
        : [
            `${interruption.kind === 'GuidedFailure' ? `${quote(interruption.step)} failed; waiting` : `Waiting at ${quote(interruption.step)}`} for ${who} (or an admin) to take responsibility${approvals}:`,
            `    interlock take ${id}`,
            ...rulesAndInputs(interruption),
            ...contextLines(interruption),
            ...(interruption.instructions.trim() ? ['  Instructions:', indent(interruption.instructions)] : []),
          ];
    case 'Assigned':
      return [
        `${quote(interruption.step)} is assigned to ${person(interruption.assignee!)}, who decides with:`,
        `    ${decisionCommands(interruption, id).join('    or    ')}`,
        ...rulesAndInputs(interruption),
        ...contextLines(interruption),
      ];
    case 'TimedOut':
      return [`${quote(interruption.step)} timed out before anyone decided (on timeout: ${interruption.onTimeout})`];
    default: {
      const by = interruption.assignee ? ` by ${person(interruption.assignee)}` : '';
      const approvers = interruption.approvals && interruption.approvals.length > 1 ? ` (approved by ${interruption.approvals.map((a) => a.user.username).join(', ')})` : '';
      const inputs = interruption.inputValues ? [`  Inputs: ${Object.entries(interruption.inputValues).map(([name, value]) => `${name}=${String(value)}`).join(', ')}`] : [];
      return [`${quote(interruption.step)} ${interruption.state.toLowerCase()}${by}${approvers}${interruption.notes ? `: ${interruption.notes}` : ''}`, ...inputs];
    }
  }
}

/** A policy gate waiting for its window: when it opens (`opens Mon 09:00 Europe/London`), why, and who may break glass. */
function windowLines(interruption: Interruption, id: string): string[] {
  const opens = interruption.opensAt
    ? `opens ${describeOpening(interruption.opensAt, interruption.timezone, Date.now(), { short: true })} (${interruption.opensAt})`
    : 'opens later';
  const teams = interruption.overrideTeams ?? [];
  return [
    `Waiting for the deployment window at ${quote(interruption.step)}: ${opens}; it goes on by itself then.`,
    ...(interruption.reason ? [`  ${interruption.reason}.`] : []),
    ...(teams.length > 0
      ? [`  A member of ${teams.join(' or ')} may override it (break-glass):`, `    interlock override ${id} --reason "…"`]
      : ['  Its policy lets nobody override it.']),
  ];
}

/** The line that says how a deployment will end while the steps after an abort or a failure still run. */
export function comingOutcome(view: View): string | undefined {
  if (!view.outcome || isFinished(view.status)) return undefined;
  const after = view.outcome === 'Failed' ? 'a failure' : 'an abort';
  return `${view.id} will end ${view.outcome}: it is ${view.status} until the steps that run after ${after} (runCondition: failure, always) have ended.`;
}

/** What changed between two views of one deployment, in process order; everything when `before` is undefined. */
export function changes(before: View | undefined, after: View): string[] {
  const lines: string[] = [];
  // Said once, right after the step that decided it.
  const coming = before?.outcome === after.outcome ? undefined : comingOutcome(after);
  const decidedAt = coming === undefined ? -1 : after.steps.findIndex((step) => step.status === 'Aborted' || (step.status === 'Failed' && !step.ignored));
  if (coming !== undefined && decidedAt < 0) lines.push(coming);
  after.steps.forEach((step, i) => {
    const interruptions = after.interruptions.filter((interruption) => interruption.step === step.name);
    // A step that waits for people is told by its interruptions: who may act, who took it, what they decided.
    if (interruptions.length > 0 && (step.status === 'Waiting' || step.type === 'manual' || step.type === 'approval' || step.type === 'policy' || interruptions.some((i) => i.kind === 'GuidedFailure'))) {
      for (const interruption of interruptions) {
        const was = before?.interruptions.find((i) => i.id === interruption.id);
        if (was && was.state === interruption.state && was.assignee?.id === interruption.assignee?.id) continue;
        lines.push(...interruptionLines(interruption, after.id));
      }
    } else if (step.status !== (before?.steps[i]?.status ?? 'Pending')) {
      lines.push(`${step.name}: ${step.status}`);
    }
    if (i === decidedAt) lines.push(coming!);
  });
  return lines;
}

/** The last word on a finished deployment, with the failed step's log tail when there is one. */
export function outcome(view: View): string[] {
  const title = `${view.projectName} ${view.release} to ${view.environment}`;
  const took = view.finishedAt ? ` after ${formatDuration(Date.parse(view.finishedAt) - Date.parse(view.createdAt))}` : '';
  switch (view.status) {
    case 'Succeeded':
      return [`Succeeded: ${title}${took}.`];
    case 'Failed': {
      const step = view.steps.find((s) => s.status === 'Failed');
      return [`Failed: ${title}${step ? ` at step ${quote(step.name)}` : ''}${took}.`, ...(step ? logTail(step) : [])];
    }
    case 'Aborted': {
      const decided = view.interruptions.find((i) => i.state === 'Aborted' || i.state === 'TimedOut');
      return [`Aborted: ${title}${took}.`, ...(decided ? interruptionLines(decided, view.id) : [])];
    }
    case 'Cancelled': {
      const cancel = view.timeline.findLast((entry) => entry.action === 'cancel' && entry.result === 'accepted');
      return [`Cancelled: ${title}${cancel && cancel.user !== 'system' ? ` by ${cancel.user}` : ''}${took}.`];
    }
    default:
      return [`${view.status}: ${title}.`];
  }
}

function logTail(step: StepView, lines = 20): string[] {
  const log = step.log.trimEnd().split('\n');
  if (!step.log.trim()) return [];
  return [`  Last ${Math.min(lines, log.length)} lines of its log:`, indent(log.slice(-lines).join('\n'))];
}

/** `interlock status`: the whole deployment in a screenful. */
export function renderView(view: View, url: (path: string) => string): string {
  const width = Math.max(...view.steps.map((s) => s.name.length), 4);
  const lines = [
    `${view.id}  ${view.status}${view.outcome && !isFinished(view.status) ? ` (will end ${view.outcome} once its remaining steps have run)` : ''}`,
    `  ${view.projectName} ${view.release} to ${view.environment}, triggered by ${person(view.triggeredBy)} at ${view.createdAt}` +
      (view.finishedAt ? `, finished at ${view.finishedAt}` : ''),
    ...(view.queuedBehind ? [`  Queued behind ${view.queuedBehind}: deployments go through a step that blocks others one at a time, in trigger order.`] : []),
    ...(view.scheduledFor ? [`  Scheduled: it goes on at ${view.scheduledFor}; until then: interlock cancel ${view.id}`] : []),
    ...(view.notAfter && !isFinished(view.status) ? [`  Start-by: not past its gates by ${view.notAfter}, it ends Expired.`] : []),
    ...(view.supersededBy ? [`  Superseded by ${view.supersededBy}.`] : []),
    '  Steps:',
    ...view.steps.map((step) => `    ${step.name.padEnd(width)}  ${step.status}${step.ignored ? ' (ignored)' : ''}${step.result ? `  ${step.result}` : ''}`),
  ];
  const open = openInterruption(view);
  if (open) lines.push(...interruptionLines(open, view.id).map((line) => `  ${line}`));
  else if (isFinished(view.status)) lines.push(...outcome(view).slice(1).map((line) => `  ${line}`));
  lines.push(...links(view, url));
  return lines.join('\n');
}

export function links(view: Pick<View, 'links'>, url: (path: string) => string): string[] {
  return [`  API       ${url(view.links.self)}`, ...(view.links.temporal ? [`  Temporal  ${view.links.temporal}`] : [])];
}

/** `interlock list`: one deployment a line. */
export function renderSummaries(deployments: DeploymentSummary[]): string {
  if (deployments.length === 0) return 'No deployments match.';
  const width = Math.max(...deployments.map((d) => d.id.length));
  return deployments
    .map((d) => {
      const waiting = d.status === 'Waiting' ? (d.assignee ? ` (assigned to ${d.assignee})` : d.waitingFor.length ? ` (for ${d.waitingFor.join(', ')})` : '') : '';
      return `${d.id.padEnd(width)}  ${d.status.padEnd(9)}  ${d.createdAt.slice(0, 19).replace('T', ' ')}${waiting}`;
    })
    .join('\n');
}

/** `interlock interruptions`: each open interruption with the command for its next move. */
export function renderInterruptions(interruptions: OpenInterruption[]): string {
  if (interruptions.length === 0) return 'Nothing is waiting for a decision.';
  return interruptions
    .map((item) => {
      const { deployment: d } = item;
      const decide = item.actions.includes('proceed') || item.actions.includes('retry')
        ? decisionCommands(item, d.id)
        : item.actions.includes('takeResponsibility')
          ? [`interlock take ${d.id}`]
          : item.actions.includes('takeOver')
            ? [`interlock take ${d.id} --take-over`]
            : [];
      const next = [...decide, ...(item.actions.includes('override') ? [`interlock override ${d.id} --reason "…"`] : [])];
      return [
        `${d.id}  ${quote(item.step)}  ${item.state}${item.assignee ? ` by ${person(item.assignee)}` : ''}`,
        item.kind === 'Window'
          ? `  ${d.project} ${d.release} to ${d.environment}; waits for its deployment window${item.opensAt ? `, opens ${describeOpening(item.opensAt, item.timezone, Date.now(), { short: true })}` : ''} (Window)`
          : `  ${d.project} ${d.release} to ${d.environment}; responsible: ${teamsOf(item).join(', ') || 'any deployer'}${item.kind === 'Manual' ? '' : ` (${item.kind})`}`,
        ...(item.rules && !item.requiredApprovals ? [`  Approval rules${item.ordered ? ', in order' : ''}: ${progressLines(item).join('; ')}`] : []),
        ...next.map((command) => `    ${command}`),
      ].join('\n');
    })
    .join('\n\n');
}
