export { checkHttp } from './http.js';
export { runScript } from './script.js';
export type { CheckHttpInput } from './http.js';
export type { RunScriptInput, StepOutput } from './script.js';
