/**
 * A deployment's workflow ID reads as what it is: `hello-service:production:1.4.2:k3x9a`. The suffix
 * keeps redeployments of one release apart (random, or derived from an `Idempotency-Key`).
 */
export function deploymentWorkflowId(project: string, environment: string, release: string, suffix: string): string {
  return `${project}:${environment}:${release}:${suffix}`;
}

/** Project ids, environments and releases as the API accepts them, so IDs stay readable and URL-safe. */
export const RELEASE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;

/** The gate of one project and environment (docs/manual-steps.md, `blockConcurrentDeployments`): one per pair. */
export const gateWorkflowId = (project: string, environment: string) => `gate:${project}:${environment}`;

/** A lifecycle project's release: `helloservice:0.1.1:k3x9a0b1c2` (docs/keptn.md). */
export const releaseWorkflowId = (project: string, release: string, suffix: string) => `${project}:${release}:${suffix}`;

/** What holds a Keptn context for its one release (a context has no colon, so this names no release). */
export const keptnContextClaimId = (keptnContext: string) => `keptn-context:${keptnContext}`;

/**
 * The project and environment a deployment's ID names (`hello-service:production:1.4.2:k3x9a`), read
 * without asking Temporal; undefined for an ID no deployment of Interlock's can have.
 */
export function placeOfDeploymentId(id: string): { project: string; environment: string } | undefined {
  const [project, environment, release, suffix, ...rest] = id.split(':');
  return project && environment && release && suffix && rest.length === 0 ? { project, environment } : undefined;
}

/** The project a release's ID names (`helloservice:0.1.1:k3x9a0b1c2`); undefined for an ID no release can have. */
export function projectOfReleaseId(id: string): string | undefined {
  const [project, release, suffix, ...rest] = id.split(':');
  return project && release && suffix && rest.length === 0 ? project : undefined;
}

/** The list of break-glass overrides to review (docs/change-control.md): one per Interlock, named by its task queue. */
export const overridesWorkflowId = (taskQueue: string) => `overrides:${taskQueue}`;
