import type { Config } from '../../config/schema.js';
import type { DeploymentStatus } from '../../workflows/messages.js';
import type { DeploymentSummary } from '../../service/deployments.js';
import type { Session } from '../../auth/sessions.js';
import { teamsOf } from '../../core/interruptions.js';
import { describeOpening } from '../../core/deployment-windows.js';
import { type Column, ErrorMessage, elapsed, FilterForm, type FilterChoice, ListTable, OlderLink, StatusBadge, Time } from '../components.js';
import type { OpenInterruption } from '../../service/deployments.js';
import { allEnvironments, deploymentPage, teamNames } from '../data.js';
import { can } from '../../service/permissions.js';

const STATUSES: DeploymentStatus[] = ['Running', 'Waiting', 'Succeeded', 'Failed', 'Aborted', 'Cancelled', 'Superseded', 'Expired'];

export interface Filters {
  project?: string | undefined;
  environment?: string | undefined;
  status?: string | undefined;
}

export interface DeploymentsProps {
  session: Session;
  config: Config;
  filters: Filters;
  filterError?: string | undefined;
  waiting: OpenInterruption[];
  /** More are waiting beyond this page: the token of the next. */
  waitingNext?: string | null | undefined;
  deployments: DeploymentSummary[];
  nextPageToken: string | null;
}

export function WaitingSection({ session, config, waiting, waitingNext }: Pick<DeploymentsProps, 'session' | 'config' | 'waiting' | 'waitingNext'>) {
  return (
    <section id="waiting" class="waiting" aria-labelledby="waiting-heading" data-live>
      <h2 id="waiting-heading">
        Waiting for you <span class="count">({waiting.length}{waitingNext ? '+' : ''})</span>
      </h2>
      {waiting.length === 0 ? (
        <p class="muted">Nothing is waiting for you right now.</p>
      ) : (
        <ul class="waiting-list">
          {waiting.map((interruption) => {
            const { deployment } = interruption;
            const mine = interruption.assignee?.id === session.user.id;
            return (
              <li class="waiting-item">
                <a href={deploymentPage(deployment.id)} class="waiting-link">
                  <StatusBadge status="Waiting" />
                  <span>
                    <strong>Waiting: {interruption.step}</strong>
                    <span class="waiting-what">
                      {deployment.projectName} {deployment.release} → {deployment.environment}
                    </span>
                  </span>
                </a>
                <span class="waiting-who">
                  {interruption.kind === 'Window'
                    ? `Waiting for its deployment window (opens ${interruption.opensAt ? describeOpening(interruption.opensAt, interruption.timezone, Date.now()) : 'later'}); you may override it.`
                    : mine
                    ? 'Assigned to you: proceed or abort.'
                    : interruption.assignee
                      ? `Assigned to ${interruption.assignee.displayName}.`
                      : `For ${teamNames(config, teamsOf(interruption)) || 'deployers'}; nobody has taken it yet.`}
                </span>
              </li>
            );
          })}
        </ul>
      )}
      {waitingNext && (
        <p>
          <a href={`/?waiting=${encodeURIComponent(waitingNext)}#waiting`}>More waiting for you →</a>
        </p>
      )}
    </section>
  );
}

export function DeploymentsTable({ deployments, config }: { deployments: DeploymentSummary[]; config: Config }) {
  if (deployments.length === 0) return <p class="muted">No deployments match.</p>;
  const projectName = (id: string) => config.projects.find((project) => project.id === id)?.name ?? id;
  const columns: Column<DeploymentSummary>[] = [
    { heading: 'Status', cell: (deployment) => <StatusBadge status={deployment.status} /> },
    {
      heading: 'Release',
      cell: (deployment) => (
        <a href={deploymentPage(deployment.id)}>
          {deployment.release}
          <span class="visually-hidden">
            {' '}
            of {projectName(deployment.project)} to {deployment.environment}
          </span>
        </a>
      ),
    },
    { heading: 'Project', cell: (deployment) => projectName(deployment.project) },
    { heading: 'Environment', cell: (deployment) => deployment.environment },
    { heading: 'Triggered by', cell: (deployment) => deployment.triggeredBy ?? '—' },
    { heading: 'Started', cell: (deployment) => <Time at={deployment.createdAt} /> },
    { heading: 'Took', cell: (deployment) => elapsed(deployment.createdAt, deployment.finishedAt) || '—' },
  ];
  return <ListTable rows={deployments} columns={columns} caption="Deployments, newest first" class="deployments" />;
}

export function DeploymentsPage(props: DeploymentsProps) {
  const { config, filters, filterError, deployments, nextPageToken, session } = props;
  // The filter offers only what the person may see: naming another project would disclose it.
  const visible = config.projects.filter((project) => project.environments.some((environment) => can(session.user, 'see', { project: project.id, environment })));
  const environments = allEnvironments({ projects: visible }).filter((environment) => visible.some((project) => can(session.user, 'see', { project: project.id, environment })));
  const choices: FilterChoice[] = [
    { name: 'project', label: 'Project', value: filters.project, options: visible.map((p) => [p.id, p.name]) },
    { name: 'environment', label: 'Environment', value: filters.environment, options: environments.map((e) => [e, e]) },
    { name: 'status', label: 'Status', value: filters.status, options: STATUSES.map((s) => [s, s]) },
  ];
  return (
    <>
      <h1>Deployments</h1>
      <WaitingSection {...props} />
      <section aria-labelledby="all-heading">
        <h2 id="all-heading">All deployments</h2>
        <FilterForm action="/" what="deployments" choices={choices} />
        <ErrorMessage id="filter-error" message={filterError} />
        <div id="deployment-list" data-live>
          <DeploymentsTable deployments={deployments} config={config} />
        </div>
        <OlderLink action="/" filters={{ ...filters }} token={nextPageToken} what="deployments" />
      </section>
    </>
  );
}
