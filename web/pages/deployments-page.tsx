import type { Config } from '../../config/schema.js';
import type { DeploymentStatus } from '../../workflows/messages.js';
import type { DeploymentSummary } from '../../service/deployments.js';
import type { Session } from '../../auth/sessions.js';
import { teamsOf } from '../../core/interruptions.js';
import { ErrorMessage, elapsed, StatusBadge, Time } from '../components.js';
import type { OpenInterruption } from '../../service/deployments.js';
import { allEnvironments, deploymentPage, teamNames } from '../data.js';

const STATUSES: DeploymentStatus[] = ['Running', 'Waiting', 'Succeeded', 'Failed', 'Aborted', 'Cancelled'];

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

function Select({ name, label, value, options }: { name: string; label: string; value: string | undefined; options: [string, string][] }) {
  return (
    <div class="field">
      <label for={`filter-${name}`}>{label}</label>
      <select id={`filter-${name}`} name={name}>
        <option value="">Any</option>
        {options.map(([optionValue, text]) => (
          <option value={optionValue} selected={optionValue === value}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
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
                  {mine
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
  return (
    <table class="deployments">
      <caption class="visually-hidden">Deployments, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Status</th>
          <th scope="col">Release</th>
          <th scope="col">Project</th>
          <th scope="col">Environment</th>
          <th scope="col">Triggered by</th>
          <th scope="col">Started</th>
          <th scope="col">Took</th>
        </tr>
      </thead>
      <tbody>
        {deployments.map((deployment) => (
          <tr>
            <td data-label="Status">
              <StatusBadge status={deployment.status} />
            </td>
            <td data-label="Release">
              <a href={deploymentPage(deployment.id)}>
                {deployment.release}
                <span class="visually-hidden">
                  {' '}
                  of {projectName(deployment.project)} to {deployment.environment}
                </span>
              </a>
            </td>
            <td data-label="Project">{projectName(deployment.project)}</td>
            <td data-label="Environment">{deployment.environment}</td>
            <td data-label="Triggered by">{deployment.triggeredBy ?? '—'}</td>
            <td data-label="Started">
              <Time at={deployment.createdAt} />
            </td>
            <td data-label="Took">{elapsed(deployment.createdAt, deployment.finishedAt) || '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function DeploymentsPage(props: DeploymentsProps) {
  const { config, filters, filterError, deployments, nextPageToken } = props;
  const olderQuery = new URLSearchParams(
    Object.entries({ ...filters, pageToken: nextPageToken ?? '' }).filter((entry): entry is [string, string] => Boolean(entry[1])),
  );
  return (
    <>
      <h1>Deployments</h1>
      <WaitingSection {...props} />
      <section aria-labelledby="all-heading">
        <h2 id="all-heading">All deployments</h2>
        <form method="get" action="/" class="filters" role="search" aria-label="Filter deployments">
          <Select name="project" label="Project" value={filters.project} options={config.projects.map((p) => [p.id, p.name])} />
          <Select name="environment" label="Environment" value={filters.environment} options={allEnvironments(config).map((e) => [e, e])} />
          <Select name="status" label="Status" value={filters.status} options={STATUSES.map((s) => [s, s])} />
          <div class="filter-buttons">
            <button type="submit">Filter</button>
            <a href="/">Clear filters</a>
          </div>
        </form>
        <ErrorMessage id="filter-error" message={filterError} />
        <div id="deployment-list" data-live>
          <DeploymentsTable deployments={deployments} config={config} />
        </div>
        {nextPageToken && (
          <p>
            <a href={`/?${olderQuery}`}>Older deployments</a>
          </p>
        )}
      </section>
    </>
  );
}
