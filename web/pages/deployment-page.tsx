import type { Config } from '../../config/schema.js';
import type { StepView } from '../../workflows/messages.js';
import { isFinished, type PolicyPartState } from '../../core/names.js';
import { describeOpening } from '../../core/deployment-windows.js';
import { isOpen } from '../../core/interruptions.js';
import { can } from '../../service/permissions.js';
import type { DeploymentWithLinks } from '../../service/deployments.js';
import { CancelButton, elapsed, Notice, RunFacts, StatusBadge } from '../components.js';
import { deploymentPage, displayNameOf, releasePage } from '../data.js';
import { Banner } from './banner.js';
import type { DeploymentProps } from './deployment-props.js';
import { Decisions, Timeline } from './record-page.js';
import { EvaluationTable } from './release-page.js';

export type { ActionError, DeploymentProps } from './deployment-props.js';


function outcome(view: DeploymentWithLinks, config: Config): string {
  const step = (status: StepView['status']) => view.steps.find((s) => s.status === status)?.name;
  const took = elapsed(view.createdAt, view.finishedAt);
  switch (view.status) {
    case 'Queued':
      return `Queued behind ${view.queuedBehind ?? 'another deployment'}: deployments of ${view.projectName} to ${view.environment} go through a step that blocks others one at a time, in the order they were triggered.`;
    case 'Running':
    case 'Waiting': {
      const window = view.status === 'Waiting' ? view.interruptions.find((i) => i.kind === 'Window' && isOpen(i)) : undefined;
      const now = view.status === 'Running'
        ? (step('Running') ? `Running “${step('Running')}”.` : 'Running.')
        : view.scheduledFor
          ? `Scheduled: it was proceeded to go on at ${view.scheduledFor}, and waits until then. Cancel it meanwhile if it must not go.`
          : window
          ? `Waiting for its deployment window at “${window.step}”: it opens ${window.opensAt ? describeOpening(window.opensAt, window.timezone, Date.now()) : 'later'}.`
          : `Waiting for a person at “${step('Waiting') ?? 'a manual step'}”.`;
      // After an abort or a failure it runs on until its `failure`/`always` steps have ended.
      return view.outcome ? `${now} It will end ${view.outcome} once the steps that run after ${view.outcome === 'Failed' ? 'a failure' : 'an abort'} have ended.` : now;
    }
    case 'Succeeded':
      return `Succeeded${took ? ` in ${took}` : ''}: every step is done.`;
    case 'Failed':
      return `Failed${step('Failed') ? ` at “${step('Failed')}”` : ''}; the steps after it did not run.`;
    case 'Aborted': {
      const aborted = view.interruptions.find((i) => i.state === 'Aborted' || i.state === 'TimedOut');
      if (!aborted) return 'Aborted; the steps after it did not run.';
      const by = aborted.state === 'TimedOut' ? 'because nobody decided in time' : `by ${aborted.assignee?.displayName ?? displayNameOf(config, 'system')}`;
      return `Aborted at “${aborted.step}” ${by}; the steps after it did not run.`;
    }
    case 'Cancelled':
      return 'Cancelled; the steps after it did not run.';
    case 'Superseded':
      return `Superseded by ${view.supersededBy ?? 'a newer deployment'} while it waited; the steps after it did not run.`;
    case 'Expired':
      return `Expired: it was not past its gates by ${view.notAfter ?? 'its start-by time'}; the steps after it did not run.`;
  }
}

function Summary({ config, view }: DeploymentProps) {
  return (
    <section id="summary" class="summary" aria-labelledby="deployment-heading" data-live>
      <h1 id="deployment-heading">
        {view.projectName} {view.release} → {view.environment}
      </h1>
      <p class="outcome" id="outcome">
        <StatusBadge status={view.status} id="deployment-status" /> <span>{outcome(view, config)}</span>
      </p>
    </section>
  );
}

function Facts({ session, view, error }: DeploymentProps) {
  const finished = isFinished(view.status);
  const mayCancel = !finished && can(session.user, 'cancel', view);
  return (
    <section id="facts" aria-label="About this deployment" data-live>
      <dl class="meta">
        <div>
          <dt>Project</dt>
          <dd>{view.projectName}</dd>
        </div>
        <div>
          <dt>Environment</dt>
          <dd>{view.environment}</dd>
        </div>
        <div>
          <dt>Release</dt>
          <dd>{view.releaseId ? <a href={releasePage(view.releaseId)}>{view.release} ({view.stage}.{view.sequence})</a> : view.release}</dd>
        </div>
        <RunFacts triggeredBy={view.triggeredBy} createdAt={view.createdAt} finishedAt={view.finishedAt} temporal={view.links.temporal} />
      </dl>
      <CancelButton page={deploymentPage(view.id)} what="deployment" show={mayCancel} error={error?.where === 'cancel' ? error.message : undefined} />
    </section>
  );
}
function Steps({ view }: { view: DeploymentWithLinks }) {
  return (
    <section id="steps" aria-labelledby="steps-heading" data-live>
      <h2 id="steps-heading">Steps</h2>
      <ol class="steps">
        {view.steps.map((step, index) => (
          <li class={`step step-${step.status.toLowerCase()}`}>
            <div class="step-head">
              <StatusBadge status={step.status} />
              <span class="step-name">{step.name}</span>
              <span class="step-type">{step.type}</span>
              {step.ignored && <span class="muted">failed, ignored</span>}
              {step.result && <span class={`result result-${step.result}`}>{step.result}</span>}
              <span class="step-duration">{elapsed(step.startedAt, step.finishedAt)}</span>
            </div>
            {step.policy && <PolicyParts policy={step.policy} />}
            {step.evaluation && <EvaluationTable caption="Evaluation" evaluation={step.evaluation} />}
            {(step.attempts ?? []).map((attempt, n) => (
              <details id={`attempt-${index}-${n}`} class="log">
                <summary>
                  Attempt {n + 1} ({attempt.status.toLowerCase()})<span class="visually-hidden"> of {step.name}</span>
                </summary>
                <pre tabindex={0}>{attempt.log}</pre>
              </details>
            ))}
            {step.log ? (
              <details id={`log-${index}`} class="log">
                <summary>
                  {step.attempts?.length ? `Attempt ${step.attempts.length + 1}` : 'Log'}<span class="visually-hidden"> of {step.name}</span>
                </summary>
                <pre tabindex={0}>{step.log}</pre>
              </details>
            ) : null}
          </li>
        ))}
      </ol>
    </section>
  );
}
const PART_WORDS: Record<PolicyPartState, string> = {
  NotRequired: 'not required',
  Pending: 'pending',
  Waiting: 'waiting',
  Passed: 'passed',
  Overridden: 'overridden',
  Failed: 'failed',
};

/** A policy gate's parts, in the order they run (docs/change-control.md). */
function PolicyParts({ policy }: { policy: NonNullable<StepView['policy']> }) {
  const window = policy.window;
  return (
    <ul class="policy-parts" aria-label="Policy gate">
      <li>Checks: {PART_WORDS[policy.checks.state]}</li>
      <li>
        Window{window.window ? ` (${window.window})` : ''}: {PART_WORDS[window.state]}
        {window.state === 'Waiting' && window.opensAt ? `, opens ${describeOpening(window.opensAt, timezoneOf(window.window), Date.now())}` : ''}
        {window.state === 'Failed' && window.reason ? `: ${window.reason}` : ''}
      </li>
      <li>Approvals: {PART_WORDS[policy.approvals.state]}</li>
    </ul>
  );
}

/** The time zone at the end of a window's description (`Mon–Thu 09:00–16:00 Europe/London`). */
const timezoneOf = (window: string | undefined) => window?.split(' ').at(-1);

export function DeploymentPage(props: DeploymentProps) {
  return (
    <>
      <Notice message={props.notice} />
      <Summary {...props} />
      <Banner {...props} />
      <Facts {...props} />
      <Steps view={props.view} />
      <Decisions {...props} />
      <Timeline {...props} />
    </>
  );
}

