/**
 * Where a deployment lives, for the API, the dashboard and the CLI alike. Its id keeps its colons
 * readable (`hello-service:production:1.4.2:5f2c9a1b3e`); everything else is percent-encoded.
 */
export const encodeDeploymentId = (id: string) => encodeURIComponent(id).replaceAll('%3A', ':');

/** `GET` this for the deployment's view (under `/api`) or its page (the dashboard, no prefix). */
export const deploymentPath = (id: string, prefix: '/api' | '' = '/api') => `${prefix}/deployments/${encodeDeploymentId(id)}`;

export const interruptionPath = (id: string, interruptionId: string, prefix: '/api' | '' = '/api') =>
  `${deploymentPath(id, prefix)}/interruptions/${encodeURIComponent(interruptionId)}`;

export interface Links {
  self: string;
  temporal: string | null;
}

export function deploymentLinks(id: string, uiUrl: string | undefined, namespace: string): Links {
  return { self: deploymentPath(id), temporal: temporalLink(id, uiUrl, namespace) };
}

/** `GET` this for the release's view (under `/api`) or its page (the dashboard). */
export const releasePath = (id: string, prefix: '/api' | '' = '/api') => `${prefix}/releases/${encodeDeploymentId(id)}`;

export function releaseLinks(id: string, uiUrl: string | undefined, namespace: string): Links {
  return { self: releasePath(id), temporal: temporalLink(id, uiUrl, namespace) };
}

const temporalLink = (id: string, uiUrl: string | undefined, namespace: string) =>
  uiUrl ? `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(id)}` : null;
