import { MAX_NOTES, isOpen } from '../../workflows/interruption.js';
import type { Interruption } from '../../workflows/messages.js';
import { actionsOf } from '../../service/access.js';
import { CsrfField, ErrorMessage, Time } from '../components.js';
import { interruptionPage, teamNames } from '../data.js';
import { renderMarkdown } from '../markdown.js';
import type { DeploymentProps } from './deployment-props.js';

/** The controls this person may use, and only those; the workflow checks the same rules again. */
function Actions({ session, config, view, interruption, error, notes }: DeploymentProps & { interruption: Interruption }) {
  const actions = actionsOf(interruption, session.user);
  const path = interruptionPage(view.id, interruption.id);
  if (actions.includes('takeResponsibility')) {
    return (
      <form method="post" action={`${path}/take-responsibility`} class="actions">
        <CsrfField token={session.csrf} />
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
  if (actions.includes('proceed')) {
    const decideError = error?.where === 'decide' ? error.message : undefined;
    return (
      <form method="post" action={`${path}/proceed`} class="actions decide stack" data-decide>
        <CsrfField token={session.csrf} />
        <div class="field">
          <label for="notes">Notes</label>
          <textarea
            id="notes"
            name="notes"
            rows={3}
            maxlength={MAX_NOTES}
            aria-describedby={decideError ? 'notes-hint decide-error' : 'notes-hint'}
            aria-invalid={decideError ? 'true' : undefined}
          >
            {notes ?? ''}
          </textarea>
          <p id="notes-hint" class="hint">
            What you checked, or why you abort (needed to abort). Saved with the decision and shown to everyone; at most{' '}
            {MAX_NOTES.toLocaleString('en')} characters.
          </p>
          <ErrorMessage id="decide-error" message={decideError} />
        </div>
        <div class="buttons">
          <button type="submit" class="primary">
            Proceed
          </button>
          <button type="submit" class="danger" formaction={`${path}/abort`} data-needs-notes>
            Abort
          </button>
        </div>
      </form>
    );
  }
  const who = teamNames(config, interruption.responsibleTeams) || 'deployers';
  const yours = interruption.excludedUserIds?.includes(session.user.id);
  return (
    <div class="actions">
      <p class="muted">
        {yours ? 'You triggered this deployment, so someone else must approve this step.' : `Only ${who} (or an admin) can act on this step.`}
      </p>
      {/* A refused post from someone with no controls (a stale page, a hand-made form) says why here. */}
      <ErrorMessage id="take-error" message={error?.message} />
    </div>
  );
}

/**
 * The interruption banner at the top of a waiting deployment: `Waiting: <step>`, who is
 * responsible, the instructions (markdown, rendered safely) behind "Show details", and the controls.
 */
export function Banner(props: DeploymentProps) {
  const { session, config, view } = props;
  // A finished deployment waits for nobody, even if its last interruption was never decided.
  const interruption = view.status === 'Waiting' ? view.interruptions.find(isOpen) : undefined;
  if (!interruption) return <div id="banner" data-live hidden></div>;
  const assignee = interruption.assignee;
  return (
    <section id="banner" class="banner" aria-labelledby="banner-heading" data-live>
      <h2 id="banner-heading">
        <svg class="icon" viewBox="0 0 16 16" width="20" height="20" aria-hidden="true" focusable="false" fill="currentColor">
          <path d="M3 2h4v12H3zM9 2h4v12H9z" />
        </svg>
        Waiting: {interruption.step}
      </h2>
      <p>
        Responsible: <strong>{teamNames(config, interruption.responsibleTeams) || 'any deployer'}</strong>.{' '}
        <span id="assignee">
          {!assignee
            ? 'Nobody has taken responsibility yet.'
            : assignee.id === session.user.id
              ? `Assigned to you (${assignee.displayName}).`
              : `Assigned to ${assignee.displayName} (${assignee.username}).`}
        </span>
      </p>
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
      <details class="instructions" id="instructions">
        <summary>Show details</summary>
        <div class="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(interruption.instructions || '_No instructions._') }} />
      </details>
      <Actions {...props} interruption={interruption} />
    </section>
  );
}

