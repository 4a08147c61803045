// The worker's workflow bundle: every workflow type Interlock registers.
export { deployment } from './deployment/deployment-workflow.js';
export { deploymentGate } from './gate/gate-workflow.js';
export { keptnContextClaim, release } from './release/release-workflow.js';
export { auditTrail } from './audit/audit-trail-workflow.js';
export { overrideRegistry } from './overrides/override-registry.js';
