/**
 * A deployment's workflow ID reads as what it is: `hello-service:production:1.4.2:k3x9a`. The suffix
 * keeps redeployments of one release apart (random, or derived from an `Idempotency-Key`).
 */
export function deploymentWorkflowId(project: string, environment: string, release: string, suffix: string): string {
  return `${project}:${environment}:${release}:${suffix}`;
}

/** Project ids, environments and releases as the API accepts them, so IDs stay readable and URL-safe. */
export const RELEASE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;
