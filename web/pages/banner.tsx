import { OVERRIDE_REASON_MAX, OVERRIDE_REASON_MIN, overridePartOf } from '../../core/break-glass.js';
import { describeOpening } from '../../core/deployment-windows.js';
import { MAX_NOTES, MAX_RUN_AT_DAYS, isExcluded, isOpen, rulesRefusal, teamsOf } from '../../core/interruptions.js';
import { type ApproverInput, MAX_INPUT_LENGTH } from '../../core/approver-inputs.js';
import { openRules } from '../../core/approval-rules.js';
import type { Interruption } from '../../workflows/messages.js';
import { actionsOf, actorOf } from '../../service/permissions.js';
import { CsrfField, ErrorMessage, Time } from '../components.js';
import { displayNameOf, interruptionPage, teamNames } from '../data.js';
import { renderMarkdown } from '../markdown.js';
import type { DeploymentProps } from './deployment-props.js';
import { DecisionContextPanel } from './decision-context-panel.js';

/**
 * The words of each kind's decisions: an approval approves or declines, a guided failure retries,
 * ignores or fails; and what its Notes field invites (notes are never required: docs/manual-steps.md#notes).
 */
const DECISION_BUTTONS: Record<Interruption['kind'], { invite: string; buttons: { action: string; label: string; style: string }[] }> = {
  Manual: {
    invite: 'What you checked, or why you abort',
    buttons: [
      { action: 'proceed', label: 'Proceed', style: 'primary' },
      { action: 'abort', label: 'Abort', style: 'danger' },
    ],
  },
  Approval: {
    invite: 'What you checked, or why you decline',
    buttons: [
      { action: 'proceed', label: 'Approve', style: 'primary' },
      { action: 'abort', label: 'Decline', style: 'danger' },
    ],
  },
  GuidedFailure: {
    invite: 'What you found, or why you fail it',
    buttons: [
      { action: 'retry', label: 'Retry', style: 'primary' },
      { action: 'ignore', label: 'Ignore and go on', style: 'secondary' },
      { action: 'fail', label: 'Fail the deployment', style: 'danger' },
    ],
  },
  // Nobody decides a window: it opens by itself, or an override team member breaks glass (below).
  Window: { invite: '', buttons: [] },
};

const HEADINGS: Record<Interruption['kind'], string> = {
  Manual: 'Waiting',
  Approval: 'Waiting for approval',
  GuidedFailure: 'A step failed',
  Window: 'Waiting for the deployment window',
};

/** A hidden field telling the form's handler where to come back to. */
const Back = ({ back }: { back: string | undefined }) => (back ? <input type="hidden" name="back" value={back} /> : null);

/** The form field of an approver input: `input.<name>`, a select, a text or a checkbox, with its error next to it. */
function InputField({ input, value, error }: { input: ApproverInput; value: string | undefined; error: string | undefined }) {
  const id = `input-${input.name}`;
  const hint = input.description ? `${id}-hint` : undefined;
  const described = [hint, error ? `${id}-error` : undefined].filter(Boolean).join(' ') || undefined;
  const common = { id, name: `input.${input.name}`, 'aria-describedby': described, 'aria-invalid': error ? ('true' as const) : undefined };
  const label = `${input.name}${input.required ? '' : ' (optional)'}`;
  if (input.type === 'boolean') {
    return (
      <div class="field input-field">
        <label for={id}>
          <input type="checkbox" value="true" checked={value === 'true'} required={input.required === true} {...common} /> {input.name}
          {input.required ? ' (must be ticked to proceed)' : ''}
        </label>
        {hint && <p id={hint} class="hint">{input.description}</p>}
        <ErrorMessage id={`${id}-error`} message={error} />
      </div>
    );
  }
  return (
    <div class="field input-field">
      <label for={id}>{label}</label>
      {input.type === 'choice' ? (
        <select required={input.required === true} {...common}>
          <option value="">Choose…</option>
          {(input.options ?? []).map((option) => (
            <option value={option} selected={value === option}>
              {option}
            </option>
          ))}
        </select>
      ) : (
        <input type="text" value={value ?? ''} maxlength={MAX_INPUT_LENGTH} required={input.required === true} {...common} />
      )}
      {hint && <p id={hint} class="hint">{input.description}</p>}
      {input.pattern && <p class="hint">It must match <code>{input.pattern}</code>.</p>}
      <ErrorMessage id={`${id}-error`} message={error} />
    </div>
  );
}

/** Each rule's progress and who may still approve (docs/manual-steps.md#approval-rules); `requiredApprovals` keeps its one line. */
function Rules({ config, interruption }: Pick<DeploymentProps, 'config'> & { interruption: Interruption }) {
  const rules = interruption.rules ?? [];
  const open = openRules(interruption);
  const mayApprove = interruption.remaining?.mayApprove ?? [];
  return (
    <div id="rules">
      <p>
        Approval rules{interruption.ordered ? ', in order' : ''}{interruption.distinctPeople ? ', a different person for each' : ''}: all must be met.
      </p>
      <ul class="rules">
        {rules.map((rule, i) => (
          <li data-met={rule.met ? 'true' : 'false'}>
            <strong>
              {rule.count} from {teamNames(config, rule.teams) || 'any deployer'}
            </strong>
            : {rule.met ? 'met' : `${rule.approvals.length} of ${rule.count}`}
            {rule.approvals.length > 0 && ` (${rule.approvals.map((approval) => approval.user.displayName).join(', ')})`}
            {!rule.met && interruption.ordered && (open.includes(i) ? ' — its turn now' : ' — after the rules before it')}
          </li>
        ))}
      </ul>
      <p id="may-approve">
        {mayApprove.length > 0
          ? `May approve now: ${mayApprove.map((username) => displayNameOf(config, username)).join(', ')} (or an admin).`
          : 'Nobody named by the open rules may approve now; an admin may.'}
      </p>
    </div>
  );
}

/** The controls this person may use, and only those; the workflow checks the same rules again. */
function Actions({ session, config, view, interruption, error, notes, inputs, back }: DeploymentProps & { interruption: Interruption }) {
  const actions = actionsOf(interruption, session.user, view);
  const path = interruptionPage(view.id, interruption.id);
  if (interruption.kind === 'Window') return null;
  if (actions.includes('takeResponsibility')) {
    return (
      <form method="post" action={`${path}/take-responsibility`} class="actions">
        <CsrfField token={session.csrf} />
        <Back back={back} />
        <button type="submit" class="primary" aria-describedby={error?.where === 'take' ? 'take-error' : undefined}>
          Assign to me
        </button>
        <ErrorMessage id="take-error" message={error?.where === 'take' ? error.message : undefined} />
      </form>
    );
  }
  if (actions.includes('takeOver')) {
    return (
      <form method="get" action={`${path}/take-over`} class="actions">
        <button type="submit" class="secondary">
          Take over…
        </button>
        <ErrorMessage id="take-error" message={error?.where === 'take' ? error.message : undefined} />
      </form>
    );
  }
  if (actions.includes('proceed') || actions.includes('retry')) {
    const decideError = error?.where === 'decide' ? error.message : undefined;
    const { invite, buttons: [first, ...others] } = DECISION_BUTTONS[interruption.kind];
    return (
      <form method="post" action={`${path}/${first!.action}`} class="actions decide stack" data-decide>
        <CsrfField token={session.csrf} />
        <Back back={back} />
        {(interruption.inputs ?? []).map((input) => (
          <InputField input={input} value={inputs?.[input.name]} error={error?.where === 'decide' ? error.fields?.[input.name] : undefined} />
        ))}
        <div class="field">
          <label for="notes">Notes</label>
          <textarea
            id="notes"
            name="notes"
            rows={3}
            maxlength={MAX_NOTES}
            placeholder={`${invite} (optional)`}
            aria-describedby={decideError ? 'notes-hint decide-error' : 'notes-hint'}
            aria-invalid={decideError && !error?.fields ? 'true' : undefined}
          >
            {notes ?? ''}
          </textarea>
          <p id="notes-hint" class="hint">
            Optional. Saved with the decision and shown to everyone; at most {MAX_NOTES.toLocaleString('en')} characters.
          </p>
          <ErrorMessage id="decide-error" message={decideError} />
        </div>
        {interruption.kind === 'GuidedFailure' ? null : (
          <div class="field">
            <label for="run-at">Go on later, at (UTC)</label>
            <input id="run-at" name="runAt" type="datetime-local" aria-describedby="run-at-hint" />
            <p id="run-at-hint" class="hint">
              Optional, with {first!.label}: approve now, and the deployment waits until then (at most {MAX_RUN_AT_DAYS} days ahead). It may be cancelled meanwhile.
            </p>
          </div>
        )}
        <div class="buttons">
          <button type="submit" class={first!.style}>
            {first!.label}
          </button>
          {others.map((button) => (
            // Only proceed carries inputs: the others go without the browser asking for them.
            <button type="submit" class={button.style} formaction={`${path}/${button.action}`} formnovalidate>
              {button.label}
            </button>
          ))}
        </div>
      </form>
    );
  }
  const who = teamNames(config, teamsOf(interruption)) || `deployers of ${view.project} in ${view.environment}`;
  const yours = isExcluded(interruption, session.user);
  // With rules, why not in the rules' own words: already approved, not yet your rule's turn, your rules met.
  const byRules = yours ? undefined : rulesRefusal(interruption, actorOf(session.user, view));
  return (
    <div class="actions">
      <p class="muted" id="why-not">
        {session.user.readOnly
          ? 'You signed in with a read-only token: you may look, not act.'
          : yours
          ? `You triggered this deployment, so someone else must ${interruption.kind === 'GuidedFailure' ? 'decide what happens after this failure' : 'approve this step'}.`
          : byRules && byRules.refusal !== 'NOT_IN_TEAM'
            ? byRules.detail
            : `Only ${who} (or an admin) can act on this step.`}
      </p>
      {/* A refused post from someone with no controls (a stale page, a hand-made form) says why here. */}
      <ErrorMessage id="take-error" message={error?.message} />
    </div>
  );
}

/**
 * Break-glass (docs/change-control.md), for members of the policy's override teams only: a reason
 * (required, at least 10 characters) and the button that passes this part of the gate.
 */
function OverrideForm({ session, config, view, interruption, error, reason, back }: DeploymentProps & { interruption: Interruption }) {
  const path = interruptionPage(view.id, interruption.id);
  const teams = interruption.overrideTeams ?? [];
  if (!actionsOf(interruption, session.user, view).includes('override')) {
    if (interruption.kind !== 'Window') return null;
    return (
      <p class="muted" id="override-who">
        {teams.length > 0 ? `Only ${teamNames(config, teams)} may override it (break-glass, with a reason).` : 'Its policy lets nobody override it.'}
      </p>
    );
  }
  const part = overridePartOf(interruption) === 'window' ? 'the window' : 'the approvals';
  const overrideError = error?.where === 'override' ? error.message : undefined;
  return (
    <form method="post" action={`${path}/override`} class="actions decide override stack">
      <CsrfField token={session.csrf} />
      <Back back={back} />
      <div class="field">
        <label for="override-reason">Reason for overriding {part}</label>
        <textarea
          id="override-reason"
          name="reason"
          rows={3}
          required
          minlength={OVERRIDE_REASON_MIN}
          maxlength={OVERRIDE_REASON_MAX}
          placeholder="Why this cannot wait (required)"
          aria-describedby={overrideError ? 'override-hint override-error' : 'override-hint'}
          aria-invalid={overrideError ? 'true' : undefined}
        >
          {reason ?? ''}
        </textarea>
        <p id="override-hint" class="hint">
          Break-glass: required, at least {OVERRIDE_REASON_MIN} characters. It is recorded in the timeline and the audit log, and an admin reviews it.
        </p>
        <ErrorMessage id="override-error" message={overrideError} />
      </div>
      <div class="buttons">
        <button type="submit" class="danger">
          Override {part}
        </button>
      </div>
    </form>
  );
}

/** A `Window` interruption: when it opens, why it is closed; it goes on by itself. */
function WindowFacts({ interruption }: { interruption: Interruption }) {
  return (
    <>
      <p id="window-opens">
        Opens <strong>{interruption.opensAt ? describeOpening(interruption.opensAt, interruption.timezone, Date.now()) : 'later'}</strong>
        {interruption.opensAt && (
          <>
            {' ('}
            <Time at={interruption.opensAt} />)
          </>
        )}
        ; the deployment goes on by itself then.
      </p>
      {interruption.reason && <p id="window-reason">{interruption.reason}.</p>}
    </>
  );
}

/**
 * The interruption banner at the top of a waiting deployment: `Waiting: <step>`, who is
 * responsible, the instructions (markdown, rendered safely) behind "Show details", and the controls.
 */
export function Banner(props: DeploymentProps) {
  const { session, config, view } = props;
  const kindClass = (interruption: Interruption) => (interruption.kind === 'Approval' ? ' banner-approval' : interruption.kind === 'GuidedFailure' ? ' banner-failure' : interruption.kind === 'Window' ? ' banner-window' : '');
  // A finished deployment waits for nobody, even if its last interruption was never decided.
  const interruption = view.status === 'Waiting' ? view.interruptions.find(isOpen) : undefined;
  if (!interruption) return <div id="banner" data-live hidden></div>;
  const assignee = interruption.assignee;
  return (
    <section id="banner" class={`banner${kindClass(interruption)}`} aria-labelledby="banner-heading" data-live>
      <h2 id="banner-heading">
        <svg class="icon" viewBox="0 0 16 16" width="20" height="20" aria-hidden="true" focusable="false" fill="currentColor">
          <path d="M3 2h4v12H3zM9 2h4v12H9z" />
        </svg>
        {HEADINGS[interruption.kind]}: {interruption.step}
      </h2>
      {interruption.kind === 'Window' && <WindowFacts interruption={interruption} />}
      <p hidden={interruption.kind === 'Window'}>
        Responsible: <strong>{teamNames(config, teamsOf(interruption)) || 'any deployer'}</strong>
        {interruption.escalated ? ' (escalated)' : ''}.{' '}
        <span id="assignee">
          {!assignee
            ? 'Nobody has taken responsibility yet.'
            : assignee.id === session.user.id
              ? `Assigned to you (${assignee.displayName}).`
              : `Assigned to ${assignee.displayName} (${assignee.username}).`}
        </span>
      </p>
      {interruption.rules && !interruption.requiredApprovals && <Rules config={config} interruption={interruption} />}
      {(interruption.requiredApprovals ?? 1) > 1 && (
        <p id="approvals">
          Approvals: {interruption.approvals?.length ?? 0} of {interruption.requiredApprovals}
          {interruption.approvals?.length ? ` (${interruption.approvals.map((approval) => approval.user.displayName).join(', ')})` : ''}.
        </p>
      )}
      {interruption.timeoutAt && (
        <p class="hint">
          If nobody decides by <Time at={interruption.timeoutAt} />, it will {interruption.onTimeout}.
        </p>
      )}
      {interruption.escalateAt && !interruption.escalated && (
        <p class="hint">
          If nobody decides by <Time at={interruption.escalateAt} />, {teamNames(config, interruption.escalateTo ?? [])} may act too.
        </p>
      )}
      {interruption.context && <DecisionContextPanel config={config} context={interruption.context} environment={view.environment} />}
      <details class="instructions" id="instructions">
        <summary>Show details</summary>
        <div class="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(interruption.instructions || '_No instructions._') }} />
      </details>
      <Actions {...props} interruption={interruption} />
      <OverrideForm {...props} interruption={interruption} />
    </section>
  );
}

