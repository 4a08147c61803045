/**
 * Approver inputs (docs/manual-steps.md#approver-inputs): what a manual step (or an approval) asks of
 * whoever proceeds, as Spinnaker's judgment inputs do: a choice, a text or a yes/no. The one rule for
 * what a proceed may carry, asked by the API, the dashboard's form, the CLI, Keptn's
 * `approval.finished`, the workflow's update validator and its signals alike; and the output
 * variables the values become. Pure.
 */

export const INPUT_TYPES = ['choice', 'text', 'boolean'] as const;
export type InputType = (typeof INPUT_TYPES)[number];

/** One input as the step declares it. */
export interface ApproverInput {
  name: string;
  type: InputType;
  /** A choice's options: the value must be one of them. */
  options?: string[] | undefined;
  /** A text's pattern: the whole value must match it. */
  pattern?: string | undefined;
  /** Must be given to proceed; a required boolean must be true (a box to tick). */
  required?: boolean | undefined;
  description?: string | undefined;
}

export type InputValue = string | boolean;
export type InputValues = Record<string, InputValue>;

/** An invalid input: its name (empty for the whole of them) and why. */
export interface InputProblem {
  name: string;
  reason: string;
}

/** A name an input may have: it is part of a variable's name and a form field's. */
export const INPUT_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
/** The longest a text input's value may be. */
export const MAX_INPUT_LENGTH = 1000;
/** At most this many inputs on a step, and options on a choice. */
export const MAX_INPUTS = 20;
export const MAX_OPTIONS = 50;

/** A pattern as a whole-value regular expression, or undefined when it is not one. */
export function wholePattern(pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    return undefined;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Every problem with the inputs a proceed carries, against what the step declares: unknown names,
 * a choice not among its options, a text too long or not matching its pattern, a boolean that is
 * not one, a required input missing (a required boolean not true). Empty when they are fine.
 */
export function inputProblems(declared: readonly ApproverInput[], given: unknown): InputProblem[] {
  if (given === undefined || given === null) given = {};
  if (!isRecord(given)) return [{ name: '', reason: 'expected an object of input names and values' }];
  const problems: InputProblem[] = [];
  const known = new Map(declared.map((input) => [input.name, input]));
  for (const name of Object.keys(given)) {
    if (!known.has(name)) {
      const asks = declared.length > 0 ? `it asks for ${declared.map((input) => input.name).join(', ')}` : 'it asks for none';
      problems.push({ name, reason: `"${name.slice(0, 100)}" is not an input of this step (${asks})` });
    }
  }
  for (const input of declared) {
    const value = Object.hasOwn(given, input.name) ? given[input.name] : undefined;
    const problem = valueProblem(input, value);
    if (problem) problems.push({ name: input.name, reason: problem });
  }
  return problems;
}

function valueProblem(input: ApproverInput, value: unknown): string | undefined {
  const missing = value === undefined || value === null || value === '';
  if (missing) return input.required ? (input.type === 'boolean' ? 'required: it must be true to proceed' : 'required') : undefined;
  switch (input.type) {
    case 'boolean':
      if (typeof value !== 'boolean') return 'expected true or false';
      return input.required && !value ? 'required: it must be true to proceed' : undefined;
    case 'choice':
      if (typeof value !== 'string' || !(input.options ?? []).includes(value)) {
        return `expected one of ${(input.options ?? []).join(', ')}${typeof value === 'string' ? `, not "${value.slice(0, 100)}"` : ''}`;
      }
      return undefined;
    case 'text': {
      if (typeof value !== 'string') return 'expected a text';
      const tooLong = inputLengthProblem(value);
      if (tooLong) return tooLong;
      const pattern = input.pattern === undefined ? undefined : wholePattern(input.pattern);
      if (pattern && !pattern.test(value)) return `"${value.slice(0, 100)}" does not match ${input.pattern}`;
      return undefined;
    }
  }
}

/** A text input's value over the limit, in the words every front end uses (the API's schema too); undefined within it. */
export const inputLengthProblem = (value: string): string | undefined =>
  value.length > MAX_INPUT_LENGTH ? `at most ${MAX_INPUT_LENGTH} characters; this is ${value.length}` : undefined;

/** What any input's value must be before what its step declares is known: a text, or true or false. */
export const INPUT_VALUE_SHAPE = 'expected a text, or true or false';

/**
 * A value as a form or a command line writes it, typed for its input: a boolean from `true`/`false`
 * (also `on`, `yes`, `1`, `no`, `0`), anything else as the text it is; empty is not given.
 */
export function parseInputValue(input: Pick<ApproverInput, 'type'> | undefined, text: string | undefined): InputValue | undefined {
  if (text === undefined || text === '') return undefined;
  if (input?.type !== 'boolean') return text;
  const lower = text.trim().toLowerCase();
  if (['true', 'on', 'yes', '1'].includes(lower)) return true;
  if (['false', 'off', 'no', '0'].includes(lower)) return false;
  return text;
}

/** The prefixes of a step's outputs: Interlock's, and the contract's spelling with `Octopus.` (docs/manual-steps.md#outputs). */
const outputPrefixes = (step: string) => [`Action[${step}].Output.Manual.Input`, `Octopus.Action[${step}].Output.Manual.Input`];

/**
 * The output variables of a step's inputs: `Action[<step>].Output.Manual.Input.<name>` and the same
 * with `Octopus.` before it. A boolean is `True` or `False`; an input nobody gave is empty (a
 * boolean `False` when the step proceeded, empty when it did not).
 */
export function inputOutputs(step: string, declared: readonly ApproverInput[] | undefined, values: InputValues | undefined, proceeded: boolean): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const input of declared ?? []) {
    const value = values && Object.hasOwn(values, input.name) ? values[input.name] : undefined;
    const text = typeof value === 'boolean' ? (value ? 'True' : 'False') : value ?? (input.type === 'boolean' && proceeded ? 'False' : '');
    for (const prefix of outputPrefixes(step)) outputs[`${prefix}.${input.name}`] = text;
  }
  return outputs;
}

/** `risk="low", backup=true`: values for the timeline and logs. */
export function describeInputs(values: InputValues | undefined): string {
  return Object.entries(values ?? {}).map(([name, value]) => `${name}=${typeof value === 'boolean' ? String(value) : JSON.stringify(value)}`).join(', ');
}

/** What a step asks for, in a line: `risk (low|medium|high, required), ticket (text matching CHG-[0-9]+), backup (true|false)`. */
export function describeDeclared(declared: readonly ApproverInput[]): string {
  return declared
    .map((input) => {
      const what = input.type === 'choice' ? (input.options ?? []).join('|') : input.type === 'boolean' ? 'true|false' : input.pattern ? `text matching ${input.pattern}` : 'text';
      return `${input.name} (${what}${input.required ? ', required' : ''})`;
    })
    .join(', ');
}

/** What is wrong with a step's declared inputs, for the config's errors (paths relative to `inputs`). */
export function declarationProblems(declared: readonly ApproverInput[]): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const seen = new Set<string>();
  declared.forEach((input, i) => {
    if (seen.has(input.name)) problems.push({ path: [i, 'name'], message: `duplicate input name "${input.name}"` });
    seen.add(input.name);
    if (input.type === 'choice' && !input.options?.length) problems.push({ path: [i, 'options'], message: 'a choice needs its options' });
    if (input.type !== 'choice' && input.options !== undefined) problems.push({ path: [i, 'options'], message: `options go with type choice only, not ${input.type}` });
    if (input.type !== 'text' && input.pattern !== undefined) problems.push({ path: [i, 'pattern'], message: `pattern goes with type text only, not ${input.type}` });
    if (input.pattern !== undefined && wholePattern(input.pattern) === undefined) problems.push({ path: [i, 'pattern'], message: 'not a valid regular expression' });
    const options = new Set<string>();
    (input.options ?? []).forEach((option, o) => {
      if (options.has(option)) problems.push({ path: [i, 'options', o], message: `duplicate option "${option}"` });
      options.add(option);
    });
  });
  return problems;
}
