import { type Interruption, isOpen } from '../../core/interruptions.js';
import { isFinished, type TimelineEntry } from '../../workflows/messages.js';
import type { InterruptionState, TimelineAction } from '../../core/names.js';
import { displayNameOf, outputVariables } from '../data.js';
import { TableHead, Time } from '../components.js';
import type { DeploymentProps } from './deployment-props.js';

/** What each person decided, with their notes, and the output variables the steps set. */
export function Decisions({ config, view }: DeploymentProps) {
  const finished = isFinished(view.status);
  const decided = view.interruptions.filter((interruption) => finished || !isOpen(interruption));
  const outputs = outputVariables(view.variables);
  return (
    <section id="decisions" aria-labelledby="decisions-heading" data-live hidden={decided.length === 0 && outputs.length === 0}>
      <h2 id="decisions-heading">Decisions and outputs</h2>
      {decided.map((interruption) => (
        <div class="decision">
          <p>
            <strong>{interruption.step}</strong>:{' '}
            {isOpen(interruption)
              ? `not decided: the deployment ended ${view.status}${interruption.assignee ? ` while ${interruption.assignee.displayName} held it` : ''}`
              : interruption.state === 'TimedOut'
              ? `timed out (nobody decided), so it did ${interruption.onTimeout}`
              : `${DECIDED[interruption.state] ?? interruption.state.toLowerCase()} by ${decidedBy(config, interruption)}`}
            {interruption.decidedAt && (
              <>
                {' at '}
                <Time at={interruption.decidedAt} />
              </>
            )}
            .
          </p>
          {interruption.notes ? (
            <blockquote class="notes">
              <p>{interruption.notes}</p>
            </blockquote>
          ) : (
            <p class="muted">No notes.</p>
          )}
          {interruption.inputValues && (
            <dl class="variables inputs">
              {Object.entries(interruption.inputValues).map(([name, value]) => (
                <div>
                  <dt>{name}</dt>
                  <dd>{typeof value === 'boolean' ? (value ? 'yes' : 'no') : value || '(empty)'}</dd>
                </div>
              ))}
            </dl>
          )}
        </div>
      ))}
      {outputs.length > 0 && (
        <>
          <h3>Output variables</h3>
          <dl class="variables">
            {outputs.map(([name, value]) => (
              <div>
                <dt>
                  <code>{name}</code>
                </dt>
                <dd>{value || '(empty)'}</dd>
              </div>
            ))}
          </dl>
        </>
      )}
    </section>
  );
}

/** How a closed interruption's state reads after "the step was …". */
const DECIDED: Partial<Record<InterruptionState, string>> = {
  Proceeded: 'proceeded',
  Aborted: 'aborted',
  Retried: 'retried',
  Ignored: 'ignored (the deployment went on)',
  Failed: 'failed for good',
  WindowOpened: 'passed: its window opened',
  Overridden: 'overridden (break-glass)',
};

/** Everyone who approved when several approvals were required; otherwise whoever decided. */
function decidedBy(config: DeploymentProps['config'], interruption: Interruption): string {
  if (interruption.override) return `${interruption.override.user.displayName}: “${interruption.override.reason}”`;
  if (interruption.state === 'WindowOpened') return displayNameOf(config, 'system');
  if (interruption.state === 'Proceeded' && interruption.approvals?.length) {
    return interruption.approvals.map((approval) => approval.user.displayName).join(', ');
  }
  return interruption.assignee?.displayName ?? displayNameOf(config, 'system');
}

const ACTIONS: Record<TimelineAction, string> = {
  takeResponsibility: 'Take responsibility',
  proceed: 'Proceed',
  abort: 'Abort',
  retry: 'Retry',
  ignore: 'Ignore',
  fail: 'Fail',
  timeout: 'Time out',
  cancel: 'Cancel',
  remind: 'Reminder',
  escalate: 'Escalate',
  queue: 'Queue',
  notify: 'Notify',
  Overridden: 'Override (break-glass)',
  supersede: 'Supersede',
  expire: 'Expire',
};

const RESULTS: Record<TimelineEntry['result'], string> = { accepted: 'Accepted', refused: 'Refused', failed: 'Failed' };

/** Every attempt to act, accepted or refused: who, when and what came of it. */
export function Timeline({ config, view }: DeploymentProps) {
  return (
    <section id="timeline" aria-labelledby="timeline-heading" data-live hidden={view.timeline.length === 0}>
      <h2 id="timeline-heading">Timeline</h2>
      <table class="timeline">
        <TableHead columns={['When', 'Who', 'Action', 'Result']} />
        <tbody>
          {view.timeline.map((entry) => (
            <tr>
              <td data-label="When">
                <Time at={entry.at} />
              </td>
              <td data-label="Who">{displayNameOf(config, entry.user)}</td>
              <td data-label="Action">
                {ACTIONS[entry.action] ?? entry.action}
                {entry.via === 'signal' && <span class="muted"> (by signal)</span>}
              </td>
              <td data-label="Result">
                {RESULTS[entry.result]}
                {entry.reason && <span class="muted">: {entry.reason.replace(/^[A-Z_]+: /, '')}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

