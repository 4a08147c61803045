// The worker's workflow bundle: every workflow type Interlock registers.
export { deployment } from './deployment.js';
