import type { Child } from 'hono/jsx';
import { randomUUID } from 'node:crypto';
import { stagesOf } from '../../config/sequences.js';
import type { Config, Project } from '../../config/schema.js';
import { can } from '../../service/permissions.js';
import type { Session } from '../../auth/sessions.js';
import { CsrfField, ErrorMessage } from '../components.js';
import { MAX_RELEASE_NOTES } from '../../core/decision-context.js';
import { teamNames } from '../data.js';

export interface DeployFormState {
  project: string;
  values: { release: string; environment: string; variables: string; releaseNotes: string };
  errors: { release?: string; environment?: string; variables?: string; releaseNotes?: string; form?: string };
}

export interface ProjectsProps {
  session: Session;
  config: Config;
  form?: DeployFormState | undefined;
}

/** The environments (stages) of the project where the person may start a deployment (a release), in promotion order. */
export const deployableEnvironments = (session: Session, project: Project) =>
  project.environments.filter((environment) => can(session.user, 'trigger', { project: project.id, environment }));

function DeployForm({ session, project, state }: { session: Session; project: Project; state: DeployFormState | undefined }) {
  const id = (field: string) => `${project.id}-${field}`;
  // A lifecycle project starts a release at a stage; it is promoted from there by its shipyard.
  const lifecycle = project.shipyard !== undefined;
  const errors = state?.errors ?? {};
  const described = (field: 'release' | 'environment' | 'variables' | 'releaseNotes', hint?: string) =>
    [hint, errors[field] ? id(`${field}-error`) : undefined].filter(Boolean).join(' ') || undefined;
  /** A free-text field of the form, with its hint and its error. */
  const TextareaField = ({ field, label, spellcheck, maxlength, children }: { field: 'variables' | 'releaseNotes'; label: string; spellcheck?: boolean; maxlength?: number; children: Child }) => (
    <div class="field">
      <label for={id(field)}>{label}</label>
      <textarea
        id={id(field)}
        name={field}
        rows={3}
        spellcheck={spellcheck}
        maxlength={maxlength}
        aria-describedby={described(field, id(`${field}-hint`))}
        aria-invalid={errors[field] ? 'true' : undefined}
      >
        {state?.values[field] ?? ''}
      </textarea>
      <p class="hint" id={id(`${field}-hint`)}>
        {children}
      </p>
      <ErrorMessage id={id(`${field}-error`)} message={errors[field]} />
    </div>
  );
  return (
    <form method="post" action={`/projects/${project.id}/${lifecycle ? 'releases' : 'deployments'}`} class="deploy stack" aria-labelledby={id('deploy-heading')}>
      <h3 id={id('deploy-heading')}>{lifecycle ? 'Start a release' : 'Deploy a release'}</h3>
      <CsrfField token={session.csrf} />
      <input type="hidden" name="idempotencyKey" value={randomUUID()} />
      <ErrorMessage id={id('form-error')} message={errors.form} />
      <div class="field">
        <label for={id('release')}>Release</label>
        <input
          id={id('release')}
          name="release"
          required
          maxlength={100}
          pattern="[A-Za-z0-9][A-Za-z0-9._+\-]*"
          placeholder="1.4.2"
          autocomplete="off"
          value={state?.values.release ?? ''}
          aria-describedby={described('release', id('release-hint'))}
          aria-invalid={errors.release ? 'true' : undefined}
        />
        <p class="hint" id={id('release-hint')}>
          A version such as 1.4.2: letters, digits, “.”, “_”, “+” and “-”.
        </p>
        <ErrorMessage id={id('release-error')} message={errors.release} />
      </div>
      <div class="field">
        <label for={id('environment')}>{lifecycle ? 'Start at stage' : 'Environment'}</label>
        <select id={id('environment')} name="environment" aria-describedby={described('environment')} aria-invalid={errors.environment ? 'true' : undefined}>
          {deployableEnvironments(session, project).map((environment) => (
            <option value={environment} selected={state?.values.environment === environment}>
              {environment}
            </option>
          ))}
        </select>
        <ErrorMessage id={id('environment-error')} message={errors.environment} />
      </div>
      <TextareaField field="variables" label="Variables (optional)" spellcheck={false}>
        One <code>KEY=VALUE</code> a line; they override the project’s variables for this deployment.
      </TextareaField>
      <TextareaField field="releaseNotes" label="Release notes (optional)" maxlength={MAX_RELEASE_NOTES}>
        Markdown: what this release changes. Everyone asked to approve it reads them.
      </TextareaField>
      <button type="submit" class="primary">
        {lifecycle ? 'Start the release' : 'Deploy'}
      </button>
    </form>
  );
}

export function ProjectsPage({ session, config, form }: ProjectsProps) {
  // Only the projects the person has a role on; a deploy form where they may deploy somewhere.
  const visible = config.projects.filter((project) => can(session.user, 'see', { project: project.id }));
  const deployer = visible.some((project) => deployableEnvironments(session, project).length > 0);
  return (
    <>
      <h1>Projects</h1>
      {visible.length === 0 && <p class="muted">You have no role on any project yet; ask an admin for a grant.</p>}
      {visible.length > 0 && !deployer && <p class="muted">You can look; deploying a release needs the deployer role.</p>}
      {visible.map((project) => (
        <section class="card project" aria-labelledby={`${project.id}-heading`} id={project.id}>
          <h2 id={`${project.id}-heading`}>
            {project.name} <span class="muted">({project.id})</span>
          </h2>
          <div class="project-grid">
            <div>
              <h3>Environments, in promotion order</h3>
              <ol class="environments">
                {project.environments.filter((environment) => can(session.user, 'see', { project: project.id, environment })).map((environment) => (
                  <li>
                    <a href={`/?project=${encodeURIComponent(project.id)}&environment=${encodeURIComponent(environment)}`}>{environment}</a>
                  </li>
                ))}
              </ol>
              {project.shipyard && (
                <>
                  <h3>Stages and their sequences</h3>
                  <ol class="process">
                    {stagesOf(project).map((stage) => (
                      <li>
                        <strong>{stage.name}</strong>
                        <ul>
                          {stage.sequences.map((sequence) => (
                            <li>
                              {sequence.name}
                              {sequence.triggeredOn.length > 0 && <span class="muted"> · after {sequence.triggeredOn.join(', ')}</span>}:{' '}
                              {sequence.tasks.map((task) => `${task.name} (${task.type})`).join(' → ')}
                            </li>
                          ))}
                        </ul>
                      </li>
                    ))}
                  </ol>
                </>
              )}
              {project.process && <h3>Steps</h3>}
              <ol class="process">
                {(project.process ?? []).map((step) => (
                  <li>
                    <strong>{step.name}</strong> <span class="step-type">{step.type}</span>
                    {step.environments && <span class="muted"> only in {step.environments.join(', ')}</span>}
                    {'responsibleTeams' in step && (
                      <span class="muted">
                        {' '}
                        · decided by {teamNames(config, step.responsibleTeams) || 'any deployer'}
                      </span>
                    )}
                  </li>
                ))}
              </ol>
            </div>
            {deployableEnvironments(session, project).length > 0 && <DeployForm session={session} project={project} state={form?.project === project.id ? form : undefined} />}
          </div>
        </section>
      ))}
    </>
  );
}
