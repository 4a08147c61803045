/** The commands every kind of run has, deployments and releases alike: start one (and follow it with --wait), and follow one. */
import type { Links } from '../service/paths.js';
import { EXIT, type ExitCode, type Response, usageError } from './client.js';
import { asFlags, type Command, type Context, type Option, str, timeoutOf, timeoutOption, type Values, variablesOf } from './command.js';
import { links } from './format.js';

/** How one kind of run starts, how it reads when started, and how it is followed. */
export interface RunKind<V extends { id: string; links: Links }> {
  noun: 'deployment' | 'release';
  /** The command that starts one: its name, words, own options (after them come --var, --wait, --timeout, then `after`), and what it requires. */
  start: { name: string; summary: string; description: string; options: Record<string, Option>; after?: Record<string, Option>; required: string[] };
  /** The command that follows one by its id. */
  wait: { name: string; summary: string };
  /** Where it is started (`POST`), with what body and headers. */
  path: string;
  body(values: Values, variables: Record<string, string> | undefined): Record<string, unknown>;
  headers?(values: Values): Record<string, string> | undefined;
  /** The first line once it is started (or found started already). */
  started(created: Response<V>, values: Values): string;
  /** Follows it to its end, printing each change; with --json, the final view is the one document on stdout. */
  follow(ctx: Context, id: string, timeoutMs: number | undefined, initial?: V): Promise<ExitCode>;
}

export function runCommands<V extends { id: string; links: Links }>(kind: RunKind<V>): { start: Command; wait: Command } {
  const start: Command = {
    name: kind.start.name,
    args: [],
    summary: kind.start.summary,
    description: kind.start.description,
    options: {
      ...kind.start.options,
      var: { type: 'string', value: 'K=V', multiple: true, help: `a variable for this ${kind.noun}; repeat for more` },
      wait: { type: 'boolean', help: `follow the ${kind.noun} until it finishes; exit 0 only if it Succeeded` },
      timeout: { ...timeoutOption, help: `with --wait: ${timeoutOption.help}` },
      ...kind.start.after,
    },
    async run(ctx, values) {
      const missing = kind.start.required.filter((name) => !str(values[name]));
      if (missing.length) throw usageError(`missing ${missing.map((name) => `--${name}`).join(', ')}.`);
      if (values.timeout !== undefined && !values.wait) throw usageError('--timeout only applies with --wait.');
      const timeoutMs = timeoutOf(values);
      const headers = kind.headers?.(values);
      const created = await ctx.client.post<V>(kind.path, kind.body(values, variablesOf(values)), headers ? { headers } : {}).catch((error: unknown) => {
        throw asFlags(error);
      });
      const view = created.body;
      const log = values.wait || ctx.json ? ctx.log : ctx.out;
      log(kind.started(created, values));
      links(view, (p) => ctx.client.url(p)).forEach((line) => log(line));
      if (values.wait) return kind.follow(ctx, view.id, timeoutMs, view);
      if (ctx.json) ctx.out(JSON.stringify(view, null, 2));
      else log(`  Follow it: interlock ${kind.wait.name} ${view.id}`);
      return EXIT.ok;
    },
  };
  const wait: Command = {
    name: kind.wait.name,
    args: ['ID'],
    summary: kind.wait.summary,
    options: { timeout: timeoutOption },
    run: (ctx, values, [id]) => kind.follow(ctx, id!, timeoutOf(values)),
  };
  return { start, wait };
}

/** A command that takes one ID and no options of its own. */
export const idCommand = (name: string, summary: string, run: (ctx: Context, id: string) => Promise<ExitCode>): Command => ({
  name,
  args: ['ID'],
  summary,
  options: {},
  run: (ctx, _values, [id]) => run(ctx, id!),
});
