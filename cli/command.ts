import { readFileSync } from 'node:fs';
/** What a CLI command is, and the pieces several commands share. */
import { type InputValues, MAX_NOTES, notesProblem } from '../core/interruptions.js';
import { type ApproverInput, describeDeclared, inputProblems, parseInputValue } from '../core/approver-inputs.js';
import { CliError, type Client, EXIT, type ExitCode, usageError } from './client.js';
import { parseDuration } from './format.js';

export interface Option {
  type: 'string' | 'boolean';
  /** The value's name in help: `--project P`. */
  value?: string;
  multiple?: boolean;
  short?: string;
  help: string;
}

export interface Context {
  client: Client;
  json: boolean;
  /** The command's result: stdout. */
  out: (text: string) => void;
  /** Progress and notes: stdout for people, stderr when stdout carries JSON. */
  log: (text: string) => void;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  name: string;
  /** The positional arguments, as help shows them. */
  args: string[];
  summary: string;
  description?: string;
  options: Record<string, Option>;
  run: (ctx: Context, values: Values, args: string[]) => Promise<ExitCode>;
}

/** The options every command takes. */
export const COMMON: Record<string, Option> = {
  json: { type: 'boolean', help: 'print JSON for scripts on stdout (progress and errors go to stderr)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

export const timeoutOption: Option = {
  type: 'string',
  value: 'DURATION',
  help: 'stop waiting after this long (90s, 30m, 2h, 1h30m) and exit 2;\nthe deployment goes on. Default: no limit',
};

export function timeoutOf(values: Values): number | undefined {
  const text = str(values.timeout);
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw usageError(`--timeout "${text}" is not a duration; use e.g. 90s, 30m, 2h or 1h30m.`);
  return ms;
}

/** Every decision's `--notes`: optional, as everywhere (docs/manual-steps.md#notes); `invite` says what they are for. */
export const notesOption = (invite: string): Record<'notes', Option> => ({
  notes: { type: 'string', value: 'TEXT', help: `${invite}, for the record (optional; at most ${MAX_NOTES} characters)` },
});

/** The `--notes` given, refused before anything is sent when the one notes rule refuses them (in its words). */
export function notesOf(values: Values): string | undefined {
  const notes = str(values.notes);
  const refused = notesProblem(notes);
  if (refused !== undefined) throw new CliError(refused, EXIT.usage);
  return notes;
}

/** `--input NAME=VALUE` (repeated): what a step asks whoever proceeds (docs/manual-steps.md#approver-inputs). */
export const inputOption: Record<'input', Option> = {
  input: { type: 'string', value: 'NAME=VALUE', multiple: true, help: 'an input the step asks for (interlock status shows them);\nrepeat for more; a yes/no is true or false' },
};

/**
 * `--input NAME=VALUE` typed for what the step declares, refused before anything is sent when the one
 * inputs rule refuses them (exit 2, naming each `--input`). Undefined when neither asks for any.
 */
export function inputsOf(values: Values, declared: readonly ApproverInput[] | undefined): InputValues | undefined {
  const pairs = (values.input as string[] | undefined) ?? [];
  if (pairs.length === 0 && !declared?.length) return undefined;
  const given: InputValues = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw usageError(`--input "${pair}" is not NAME=VALUE.`);
    const name = pair.slice(0, at);
    const value = parseInputValue(declared?.find((input) => input.name === name), pair.slice(at + 1));
    if (value !== undefined) given[name] = value;
  }
  const problems = inputProblems(declared ?? [], given);
  if (problems.length > 0) {
    const asks = declared?.length ? ` It asks for: ${describeDeclared(declared)}.` : ' It asks for none.';
    throw new CliError(`${problems.map(({ name, reason }) => `--input ${name}: ${reason}`).join('; ')}.${asks}`, EXIT.usage);
  }
  return given;
}

/** `--var K=V` (repeated) as the variables of a request. */
export function variablesOf(values: Values): Record<string, string> | undefined {
  if (!values.var) return undefined;
  const variables: Record<string, string> = {};
  for (const pair of values.var as string[]) {
    const at = pair.indexOf('=');
    if (at < 1) throw usageError(`--var "${pair}" is not K=V.`);
    variables[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return variables;
}

/** The server names fields as `body.release`; on the command line they are `--release` (and `--var`). */
export function asFlags(error: unknown): unknown {
  if (error instanceof CliError && error.problem?.status === 400) {
    return new CliError(error.message.replaceAll('body.variables', '--var').replace(/body\.(\w+)/g, '--$1'), error.exitCode, error.problem);
  }
  return error;
}

/** `--release-notes` or `--release-notes-file` (docs/change-control.md#the-context-to-decide), not both. */
export function releaseNotesOf(text: string | undefined, file: string | undefined): string | undefined {
  if (text !== undefined && file !== undefined) throw usageError('Give --release-notes or --release-notes-file, not both.');
  if (file === undefined) return text;
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw usageError(`--release-notes-file "${file}" cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The options that give a trigger's release notes. */
export const releaseNotesOptions: Record<'release-notes' | 'release-notes-file', Option> = {
  'release-notes': { type: 'string', value: 'TEXT', help: 'what this release changes (markdown, at most 20,000 characters): shown with every approval' },
  'release-notes-file': { type: 'string', value: 'PATH', help: 'the release notes from a file (- for stdin)' },
};

/** `{releaseNotes}` from the options, for a trigger's body; nothing when none were given. */
export function withReleaseNotes(values: Record<string, unknown>): { releaseNotes?: string } {
  const releaseNotes = releaseNotesOf(str(values['release-notes']), str(values['release-notes-file']));
  return releaseNotes === undefined ? {} : { releaseNotes };
}
