import { overrideReasonProblem } from '../core/break-glass.js';
import { CliError, EXIT, usageError } from './client.js';
import { deploymentPath as path, interruptionPath } from '../service/paths.js';
import { type Command, type Context, inputOption, inputsOf, notesOf, notesOption, str } from './command.js';
import { isFinished, type Interruption, interruptionLines, openInterruption, type OpenInterruption, renderInterruptions, stillWaiting, type View } from './format.js';
import { isOpen, MAX_RUN_AT_DAYS, runAtProblem } from '../core/interruptions.js';

/** A refusal, with the command that gets past it where there is one. */
function withHint(error: unknown, id: string): unknown {
  if (!(error instanceof CliError) || !error.problem?.code) return error;
  const hints: Record<string, string> = {
    HELD_BY_OTHER: `To take it over: interlock take ${id} --take-over`,
    NOT_ASSIGNEE: `To take it over: interlock take ${id} --take-over`,
    NOT_TAKEN: `Take it first: interlock take ${id}`,
  };
  const hint = hints[error.problem.code];
  return hint ? new CliError(`${error.message} ${hint}`, error.exitCode, error.problem) : error;
}

/** `--run-at`, by the one rule (core's `runAtProblem`), checked before anything is sent. */
function runAtOf(values: Record<string, unknown>): string | undefined {
  const runAt = str(values['run-at']);
  const problem = runAtProblem('proceed', runAt, new Date().toISOString(), { future: true });
  if (problem) throw usageError(`--run-at: ${problem}`);
  return runAt;
}

/** The deployment's open interruption, or a refusal that says why there is none. */
async function openOf(ctx: Context, id: string, doing: string): Promise<{ view: View; interruption: Interruption }> {
  const { body: view } = await ctx.client.get<View>(path(id));
  const interruption = openInterruption(view);
  if (interruption) return { view, interruption };
  if (isFinished(view.status)) throw new CliError(`${id} has finished (${view.status}); there is nothing left to ${doing}.`, EXIT.failed);
  throw new CliError(`${id} is ${view.status}, not waiting at a manual step; nothing to ${doing} yet (interlock status ${id}).`, EXIT.failed);
}

const AFTER: Record<Decision, (id: string) => string> = {
  proceed: (id) => `The deployment runs on; follow it with: interlock wait ${id}`,
  abort: () => 'The deployment ends Aborted; later steps are skipped.',
  retry: (id) => `The step runs again; follow it with: interlock wait ${id}`,
  ignore: (id) => `The step stays Failed (ignored) and the deployment goes on: interlock wait ${id}`,
  fail: () => 'The deployment ends Failed; later steps are skipped.',
};
type Decision = 'proceed' | 'abort' | 'retry' | 'ignore' | 'fail';

function decision(verb: Decision): Command['run'] {
  return async (ctx, values, [id]) => {
    const notes = notesOf(values);
    const { interruption } = await openOf(ctx, id!, verb);
    // Only proceed carries inputs, checked against what the step asks before anything is sent; and a time to go on.
    const inputs = verb === 'proceed' ? inputsOf(values, interruption.inputs) : undefined;
    const runAt = verb === 'proceed' ? runAtOf(values) : undefined;
    const done = await ctx.client
      .post<Interruption>(`${interruptionPath(id!, interruption.id)}/${verb}`, { ...(notes === undefined ? {} : { notes }), ...(inputs ? { inputs } : {}), ...(runAt ? { runAt } : {}) })
      .catch((error: unknown) => { throw withHint(error, id!); });
    if (ctx.json) ctx.out(JSON.stringify(done.body, null, 2));
    else {
      ctx.out(interruptionLines(done.body, id!).join('\n'));
      // An approval that leaves rules unmet: the step waits for the next person.
      ctx.out(verb === 'proceed' && isOpen(done.body) ? stillWaiting(done.body, id!) : done.body.runAt ? `The deployment goes on at ${done.body.runAt}; until then: interlock cancel ${id!}` : AFTER[verb](id!));
    }
    return EXIT.ok;
  };
}

export const interruptionsCommand: Command = {
  name: 'interruptions',
  args: [],
  summary: 'manual steps waiting for a decision you may take part in (--all: every open one)',
  options: { all: { type: 'boolean', help: 'every open interruption, also those you may not act on' } },
  async run(ctx, values) {
    const { body } = await ctx.client.get<{ interruptions: OpenInterruption[] }>(`/api/interruptions${values.all ? '' : '?actionable=true'}`);
    ctx.out(ctx.json ? JSON.stringify(body, null, 2) : renderInterruptions(body.interruptions));
    return EXIT.ok;
  },
};

export const take: Command = {
  name: 'take',
  args: ['ID'],
  summary: 'take responsibility for the manual step a deployment waits at',
  options: { 'take-over': { type: 'boolean', help: 'take it from whoever holds it now (recorded in the timeline)' } },
  async run(ctx, values, [id]) {
    const { view, interruption } = await openOf(ctx, id!, 'take');
    const taken = await ctx.client
      .post<Interruption>(`${interruptionPath(id!, interruption.id)}/take-responsibility`, values['take-over'] ? { takeOver: true } : {})
      .catch((error: unknown) => { throw withHint(error, id!); });
    if (ctx.json) ctx.out(JSON.stringify(taken.body, null, 2));
    else {
      ctx.out(`${view.projectName} ${view.release} to ${view.environment} (${id})`);
      ctx.out(interruptionLines(taken.body, id!).join('\n'));
      if (taken.body.instructions.trim()) ctx.out(`  Instructions:\n${taken.body.instructions.trimEnd().replace(/^/gm, '    ')}`);
    }
    return EXIT.ok;
  },
};

export const proceed: Command = {
  name: 'proceed',
  args: ['ID'],
  summary: 'proceed with the manual step you are responsible for',
  options: {
    ...notesOption('what you checked'),
    ...inputOption,
    'run-at': { type: 'string', value: 'T', help: `approve now, go on later: an RFC 3339 time at most ${MAX_RUN_AT_DAYS} days ahead (e.g. 2026-12-07T09:00:00Z)` },
  },
  run: decision('proceed'),
};

export const abort: Command = {
  name: 'abort',
  args: ['ID'],
  summary: 'abort the deployment at the manual step you are responsible for',
  options: notesOption('why you abort'),
  run: decision('abort'),
};

// Guided failure (docs/manual-steps.md): what the person responsible for a failed step chooses.

export const retry: Command = {
  name: 'retry',
  args: ['ID'],
  summary: 'run the failed step you are responsible for again (guided failure)',
  options: notesOption('what changed'),
  run: decision('retry'),
};

export const ignore: Command = {
  name: 'ignore',
  args: ['ID'],
  summary: 'go on past the failed step you are responsible for; it stays Failed (ignored)',
  options: notesOption('why it is safe to go on'),
  run: decision('ignore'),
};

export const fail: Command = {
  name: 'fail',
  args: ['ID'],
  summary: 'fail the deployment at the failed step you are responsible for',
  options: notesOption('why you fail it'),
  run: decision('fail'),
};

/** Break-glass (docs/change-control.md): a member of the policy's override teams passes the gate a deployment waits at. */
export const override: Command = {
  name: 'override',
  args: ['ID'],
  summary: 'break glass: pass the policy gate a deployment waits at (its window, a freeze or its approvals)',
  description:
    'For members of the policy\'s override teams. The reason is recorded in the timeline and the audit\n' +
    'log, sent to subscribers, and listed for an admin to review (GET /api/overrides).',
  options: { reason: { type: 'string', value: 'TEXT', help: 'why this cannot wait (required; at least 10 characters)' } },
  async run(ctx, values, [id]) {
    const reason = str(values.reason);
    const problem = overrideReasonProblem(reason);
    if (problem !== undefined) throw reason === undefined ? usageError(`--reason is required: ${problem}`) : new CliError(problem, EXIT.usage);
    const { interruption } = await openOf(ctx, id!, 'override');
    const done = await ctx.client.post<Interruption>(`${interruptionPath(id!, interruption.id)}/override`, { reason });
    if (ctx.json) ctx.out(JSON.stringify(done.body, null, 2));
    else {
      ctx.out(interruptionLines(done.body, id!).join('\n'));
      ctx.out(`The deployment goes on; follow it with: interlock wait ${id}`);
    }
    return EXIT.ok;
  },
};
