// The worker's workflow bundle: every workflow type Interlock registers.
export { keptnContextClaim } from './context-claim.js';
export { deployment } from './deployment.js';
export { deploymentGate } from './gate.js';
export { release } from './release.js';
