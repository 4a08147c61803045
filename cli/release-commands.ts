import type { ReleaseWithLinks } from '../service/releases.js';
import { deploymentPath, interruptionPath, releasePath } from '../service/paths.js';
import { isOpen } from '../core/interruptions.js';
import { CliError, type Client, EXIT, type ExitCode } from './client.js';
import { type Command, type Context, inputOption, inputsOf, notesOf, notesOption, releaseNotesOptions, str, withReleaseNotes } from './command.js';
import { runCommands } from './run-commands.js';
import { formatDuration, type Interruption, interruptionLines, isFinished, stillWaiting, type View } from './format.js';

const SLICE_SECONDS = 5;

/** One line per sequence that changed: `qa.delivery: Succeeded (pass)`. */
function releaseChanges(before: ReleaseWithLinks | undefined, after: ReleaseWithLinks): string[] {
  return after.stages.flatMap((stage) =>
    stage.sequences.flatMap((sequence) => {
      const was = before?.stages.find((s) => s.name === stage.name)?.sequences.find((s) => s.name === sequence.name);
      if (was && was.status === sequence.status && was.result === sequence.result) return [];
      if (!was && sequence.status === 'Pending') return [];
      return [`${stage.name}.${sequence.name}: ${sequence.status}${sequence.result ? ` (${sequence.result})` : ''}`];
    }),
  );
}

/** The deployments of a release that wait for a person, with their open interruption. */
async function waitingIn(client: Client, release: ReleaseWithLinks): Promise<{ view: View; interruption: Interruption }[]> {
  const ids = release.stages.flatMap((stage) => stage.sequences.filter((s) => s.status === 'Waiting' && s.deploymentId).map((s) => s.deploymentId!));
  const views = await Promise.all(ids.map((id) => client.get<View>(deploymentPath(id)).then((answer) => answer.body)));
  return views.flatMap((view) => {
    const interruption = view.interruptions.filter(isOpen).at(-1);
    return interruption ? [{ view, interruption }] : [];
  });
}

/** Follows a release to its end, printing each sequence's change and, when one waits, who may act and the command. */
async function followRelease(ctx: Context, id: string, timeoutMs: number | undefined, initial?: ReleaseWithLinks): Promise<ExitCode> {
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  const stamp = () => new Date().toTimeString().slice(0, 8);
  const print = (lines: string[]) => lines.flatMap((line) => line.split('\n')).forEach((line) => ctx.log(line.startsWith(' ') ? `          ${line}` : `${stamp()}  ${line}`));
  let seen = initial;
  const told = new Set<string>();
  for (;;) {
    const remaining = deadline - Date.now();
    if (seen && remaining <= 0) {
      if (ctx.json) ctx.out(JSON.stringify(seen, null, 2));
      process.stderr.write(`interlock: timed out after ${formatDuration(timeoutMs!)}: ${id} is still ${seen.status} and goes on; follow it again with: interlock wait-release ${id}\n`);
      return EXIT.usage;
    }
    const seconds = Math.max(1, Math.min(SLICE_SECONDS, Math.ceil(remaining / 1000)));
    const answer = await ctx.client.get<ReleaseWithLinks>(`${releasePath(id)}/wait?timeout=${seconds}`, { timeoutMs: (seconds + 30) * 1000 });
    print(releaseChanges(seen, answer.body));
    seen = answer.body;
    for (const { view, interruption } of await waitingIn(ctx.client, seen)) {
      const key = `${interruption.id}:${interruption.state}:${interruption.assignee?.id ?? ''}:${interruption.approvals?.length ?? 0}`;
      if (told.has(key)) continue;
      told.add(key);
      const target = interruption.kind === 'Approval' ? seen.id : view.id;
      print([`${view.stage ?? view.environment}:`, ...interruptionLines(interruption, target).map((line) => `  ${line}`)]);
    }
    if (answer.status === 200 && isFinished(seen.status)) {
      print([`${seen.status}: ${seen.projectName} ${seen.release}.`]);
      if (ctx.json) ctx.out(JSON.stringify(seen, null, 2));
      return seen.status === 'Succeeded' ? EXIT.ok : EXIT.failed;
    }
  }
}

export const { start: release, wait: waitRelease } = runCommands<ReleaseWithLinks>({
  noun: 'release',
  start: {
    name: 'release',
    summary: 'start a release of a lifecycle project; with --wait, follow it through its stages',
    description:
      'Starts at the first stage (or --stage), whose sequence the shipyard promotes from there.\n' +
      'With --wait, prints each sequence as it changes and, when one waits for approval, who may\n' +
      'act and the command; exits 0 only if the release Succeeded.',
    options: {
      project: { type: 'string', value: 'P', help: 'the lifecycle project (required)' },
      release: { type: 'string', value: 'R', help: 'the version, e.g. 0.1.1 (required)' },
      stage: { type: 'string', value: 'S', help: 'the stage to start at; default the first' },
      sequence: { type: 'string', value: 'Q', help: 'the sequence of that stage; default delivery' },
      ...releaseNotesOptions,
    },
    required: ['project', 'release'],
  },
  wait: { name: 'wait-release', summary: 'follow a release (its id or keptnContext) until it finishes; exit 0 only if it Succeeded' },
  path: '/api/releases',
  body: (values, variables) => ({
    project: values.project,
    release: values.release,
    ...(str(values.stage) ? { stage: values.stage } : {}),
    ...(str(values.sequence) ? { sequence: values.sequence } : {}),
    ...(variables ? { variables } : {}),
    ...withReleaseNotes(values),
  }),
  started: ({ body: view }) => `Started ${view.id}: ${view.projectName} ${view.release} (keptnContext ${view.keptnContext})`,
  follow: followRelease,
});

/**
 * Approve or decline, as Keptn's `approval.finished` does: takes responsibility (unless you hold it
 * already) and proceeds or aborts, on what a release (its id or keptnContext) or a deployment waits for.
 */
function approval(verb: 'approve' | 'decline'): Command['run'] {
  return async (ctx, values, [id]) => {
    const notes = notesOf(values);
    const me = (await ctx.client.get<{ id: string }>('/api/me')).body;
    const target = await waitingTarget(ctx.client, id!);
    const path = interruptionPath(target.view.id, target.interruption.id);
    // Checked before it is taken, so a bad input changes nothing.
    const inputs = verb === 'approve' ? inputsOf(values, target.interruption.inputs) : undefined;
    if (target.interruption.assignee?.id !== me.id) await ctx.client.post(`${path}/take-responsibility`, {});
    const body = { ...(notes === undefined ? {} : { notes }), ...(inputs ? { inputs } : {}) };
    const done = await ctx.client.post<Interruption>(`${path}/${verb === 'approve' ? 'proceed' : 'abort'}`, body);
    if (ctx.json) ctx.out(JSON.stringify(done.body, null, 2));
    else {
      ctx.out(`${target.view.projectName} ${target.view.release} in ${target.view.stage ?? target.view.environment} (${target.view.id})`);
      ctx.out(interruptionLines(done.body, target.view.id).join('\n'));
      ctx.out(verb === 'decline' ? 'Declined: nothing after it runs.' : isOpen(done.body) ? stillWaiting(done.body, target.view.id) : 'It goes on.');
    }
    return EXIT.ok;
  };
}

/** What `id` waits for: a deployment's open interruption, or the one a release's waiting sequence has. */
async function waitingTarget(client: Client, id: string): Promise<{ view: View; interruption: Interruption }> {
  const isDeployment = id.split(':').length === 4;
  if (isDeployment) {
    const { body: view } = await client.get<View>(deploymentPath(id));
    const interruption = view.interruptions.filter(isOpen).at(-1);
    if (interruption && view.status === 'Waiting') return { view, interruption };
    throw new CliError(`${id} is ${view.status}, not waiting for a decision.`, EXIT.failed);
  }
  const { body: release } = await client.get<ReleaseWithLinks>(releasePath(id));
  const [first] = await waitingIn(client, release);
  if (first) return first;
  throw new CliError(`${release.id} is ${release.status}; no stage of it waits for a decision.`, EXIT.failed);
}

export const approve: Command = {
  name: 'approve',
  args: ['ID'],
  summary: 'approve what a release (id or keptnContext) or a deployment waits for: take it and proceed',
  options: { ...notesOption('what you checked'), ...inputOption },
  run: approval('approve'),
};

export const decline: Command = {
  name: 'decline',
  args: ['ID'],
  summary: 'decline it: take it and abort; nothing after it runs',
  options: notesOption('why you decline'),
  run: approval('decline'),
};
