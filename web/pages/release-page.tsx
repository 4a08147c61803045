import type { Config } from '../../config/schema.js';
import { can } from '../../service/permissions.js';
import type { DeploymentWithLinks } from '../../service/deployments.js';
import type { ReleaseSummary, ReleaseWithLinks } from '../../service/releases.js';
import { isOpen } from '../../core/interruptions.js';
import type { SequenceView } from '../../workflows/messages.js';
import { isFinished, RELEASE_STATUSES } from '../../core/names.js';
import type { Evaluation } from '../../core/slo-scoring.js';
import { CancelButton, type Column, elapsed, FilterForm, type FilterChoice, ListTable, OlderLink, RunFacts, StatusBadge, TableHead, Time } from '../components.js';
import { deploymentPage, releasePage } from '../data.js';
import type { Session } from '../../auth/sessions.js';
import { Banner } from './banner.js';
import type { ActionError } from './deployment-props.js';

export interface ReleaseProps {
  session: Session;
  config: Config;
  view: ReleaseWithLinks;
  /** The views of the deployments that ran (or run) its sequences, by id. */
  sequences: Record<string, DeploymentWithLinks>;
  error?: ActionError | undefined;
}

const ResultChip = ({ result }: { result: string | null | undefined }) =>
  result ? <span class={`result result-${result}`}>{result}</span> : null;

/** A sequence that waits at an Approval: Keptn's bridge draws it blue, "waiting for approval". */
const waitsForApproval = (deployment: DeploymentWithLinks | undefined) =>
  deployment?.status === 'Waiting' && deployment.interruptions.some((i) => isOpen(i) && i.kind === 'Approval');

function Sequence({ sequence, deployment }: { sequence: SequenceView; deployment: DeploymentWithLinks | undefined }) {
  const approval = waitsForApproval(deployment);
  return (
    <li class={`sequence sequence-${sequence.status.toLowerCase()}${approval ? ' sequence-approval' : ''}`} data-sequence={sequence.name}>
      <div class="sequence-head">
        <strong>{sequence.name}</strong> {approval ? <span class="badge badge-approval">waiting for approval</span> : <StatusBadge status={sequence.status} />}{' '}
        <ResultChip result={sequence.result} />
      </div>
      {deployment && (
        <ol class="tasks">
          {deployment.steps.map((step) => (
            <li class={`task task-${step.status.toLowerCase()}`}>
              <span class="task-name">{step.name}</span> <span class="muted">{step.status.toLowerCase()}</span> <ResultChip result={step.result} />
            </li>
          ))}
        </ol>
      )}
      {sequence.deploymentId && (
        <a href={deploymentPage(sequence.deploymentId)} class="small">
          Open the deployment{elapsed(sequence.startedAt, sequence.finishedAt) ? ` (${elapsed(sequence.startedAt, sequence.finishedAt)})` : ''}
        </a>
      )}
    </li>
  );
}

/** The per-objective table of an evaluation (Keptn's quality gate). */
export function EvaluationTable({ evaluation, caption }: { evaluation: Evaluation; caption: string }) {
  return (
    <table class="evaluation">
      <caption>
        {caption}: <ResultChip result={evaluation.result} /> score {evaluation.score} (pass ≥ {evaluation.totalScore.pass}, warning ≥ {evaluation.totalScore.warning})
      </caption>
      <TableHead columns={['SLI', 'Value', 'Pass', 'Warning', 'Result', 'Score']} />
      <tbody>
        {evaluation.objectives.map((objective) => (
          <tr>
            <th scope="row">{objective.displayName}</th>
            <td>{objective.value ?? '—'}</td>
            <td>{objective.pass.map((c) => `${c.criterion}${c.violated ? ' ✗' : ''}`).join(' and ') || '—'}</td>
            <td>{objective.warning.map((c) => `${c.criterion}${c.violated ? ' ✗' : ''}`).join(' and ') || '—'}</td>
            <td>
              <ResultChip result={objective.status === 'info' ? null : objective.status} />
              {objective.status === 'info' ? 'info' : ''}
            </td>
            <td>
              {objective.score}/{objective.weight}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * A release as Keptn's bridge shows one: its stages left to right, each sequence with its status and
 * result and its tasks, the evaluations, and the approval banner of a sequence that waits, with the
 * buttons for whoever may act. Live through the release's event stream.
 */
export function ReleasePage({ session, config, view, sequences, error }: ReleaseProps) {
  const children = Object.values(sequences);
  const waiting = children.find((child) => child.status === 'Waiting' && child.interruptions.some(isOpen));
  const evaluations = children.flatMap((child) =>
    child.steps.flatMap((step) => (step.evaluation ? [{ caption: `${child.stage ?? child.environment}: ${step.name}`, evaluation: step.evaluation }] : [])),
  );
  const mayCancel = !isFinished(view.status) && can(session.user, 'cancel', { project: view.project });
  return (
    <>
      <section id="summary" class="summary" aria-labelledby="release-heading" data-live>
        <h1 id="release-heading">
          {view.projectName} {view.release}
        </h1>
        <p class="outcome" id="outcome">
          <StatusBadge status={view.status} id="release-status" /> <span>{outcome(view, waiting)}</span>
        </p>
      </section>
      <section id="stages" aria-label="Stages" data-live>
        <ol class="stages">
          {view.stages.map((stage) => (
            <li class="stage" data-stage={stage.name}>
              <h2>{stage.name}</h2>
              <ul class="sequences">
                {stage.sequences.map((sequence) => (
                  <Sequence sequence={sequence} deployment={sequence.deploymentId ? sequences[sequence.deploymentId] : undefined} />
                ))}
              </ul>
            </li>
          ))}
        </ol>
      </section>
      {waiting ? (
        <Banner session={session} config={config} view={waiting} error={error} back={releasePage(view.id)} />
      ) : (
        <div id="banner" data-live hidden></div>
      )}
      <section id="evaluations" data-live aria-label="Evaluations">
        {evaluations.map(({ caption, evaluation }) => (
          <EvaluationTable caption={caption} evaluation={evaluation} />
        ))}
      </section>
      <section id="facts" aria-label="About this release" data-live>
        <dl class="meta">
          <div>
            <dt>Keptn context</dt>
            <dd>
              <code>{view.keptnContext}</code>
            </dd>
          </div>
          <RunFacts triggeredBy={view.triggeredBy} createdAt={view.createdAt} finishedAt={view.finishedAt} temporal={view.links.temporal} />
        </dl>
        <CancelButton page={releasePage(view.id)} what="release" show={mayCancel} error={error?.where === 'cancel' ? error.message : undefined} />
      </section>
    </>
  );
}

function outcome(view: ReleaseWithLinks, waiting: DeploymentWithLinks | undefined): string {
  const running = view.stages.flatMap((stage) => stage.sequences.map((sequence) => ({ stage: stage.name, sequence }))).filter(({ sequence }) => sequence.deploymentId && !sequence.finishedAt);
  switch (view.status) {
    case 'Waiting': {
      const interruption = waiting?.interruptions.find(isOpen);
      return interruption?.kind === 'Approval'
        ? `Waiting for approval in ${waiting!.stage ?? waiting!.environment}.`
        : `Waiting for a person in ${waiting?.stage ?? 'a stage'} at “${interruption?.step ?? 'a step'}”.`;
    }
    case 'Running':
      return running.length > 0 ? `Running ${running.map(({ stage, sequence }) => `${stage}.${sequence.name}`).join(', ')}.` : 'Running.';
    case 'Succeeded':
      return 'Succeeded: every sequence it reached passed.';
    case 'Failed':
      return 'Failed: a sequence failed, and nothing after it was promoted.';
    case 'Aborted':
      return 'Aborted: a person declined or aborted, and nothing after it ran.';
    case 'Cancelled':
      return 'Cancelled.';
  }
}

/** The releases list: newest first, filtered by project and status. */
export function ReleasesPage({ session, config, releases, nextPageToken, filters }: { session: Session; config: Config; releases: ReleaseSummary[]; nextPageToken: string | null; filters: { project?: string | undefined; status?: string | undefined } }) {
  // The lifecycle projects the person may see: the filter offers nothing else.
  const lifecycle = config.projects.filter((project) => project.shipyard && can(session.user, 'see', { project: project.id }));
  const choices: FilterChoice[] = [
    { name: 'project', label: 'Project', value: filters.project, options: lifecycle.map((project) => [project.id, project.name]) },
    { name: 'status', label: 'Status', value: filters.status, options: RELEASE_STATUSES.map((status) => [status, status]) },
  ];
  const columns: Column<ReleaseSummary>[] = [
    { heading: 'Release', cell: (release) => <a href={releasePage(release.id)}>{release.release}</a> },
    { heading: 'Project', cell: (release) => release.project },
    { heading: 'Status', cell: (release) => <StatusBadge status={release.status} /> },
    { heading: 'Started', cell: (release) => <Time at={release.createdAt} /> },
    { heading: 'By', cell: (release) => release.triggeredBy ?? '' },
  ];
  return (
    <>
      <h1>Releases</h1>
      <FilterForm action="/releases" what="releases" choices={choices} />
      <section id="releases" data-live aria-label="Releases">
        {releases.length === 0 ? (
          <p class="muted">No releases{lifecycle.length === 0 ? ': no project has a shipyard' : ' match'}.</p>
        ) : (
          <ListTable rows={releases} columns={columns} caption="Releases, newest first" class="list" />
        )}
        <OlderLink action="/releases" filters={filters} token={nextPageToken} what="releases" />
      </section>
    </>
  );
}
