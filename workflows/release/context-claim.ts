import type { KeptnContextClaim } from '../messages.js';

/**
 * Holds a Keptn context for one release (one context, one release): its workflow ID is the
 * context's, so a second claim is refused by Temporal itself, however many triggers race; its memo
 * names the release. It has nothing to do but exist, and ends at once.
 */
export async function keptnContextClaim(claim: KeptnContextClaim): Promise<KeptnContextClaim> {
  return claim;
}
