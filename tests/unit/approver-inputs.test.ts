import { describe, expect, it } from 'vitest';
import {
  type ApproverInput,
  declarationProblems,
  describeInputs,
  inputOutputs,
  inputProblems,
  MAX_INPUT_LENGTH,
  parseInputValue,
} from '../../core/approver-inputs.js';
import { ConfigError, parseConfig } from '../../config/load.js';
import { DecisionRequestSchema } from '../../workflows/signal-payloads.js';

// docs/manual-steps.md#approver-inputs: the one rule for what a proceed carries, and the outputs it becomes.

const INPUTS: ApproverInput[] = [
  { name: 'risk', type: 'choice', options: ['low', 'medium', 'high'], required: true },
  { name: 'ticket', type: 'text', pattern: 'CHG-[0-9]+' },
  { name: 'backupTaken', type: 'boolean', required: true },
  { name: 'smoke', type: 'boolean' },
  { name: 'comment', type: 'text' },
];

describe('inputProblems', () => {
  it('accepts what the step asks, optional ones left out', () => {
    expect(inputProblems(INPUTS, { risk: 'low', backupTaken: true })).toEqual([]);
    expect(inputProblems(INPUTS, { risk: 'high', ticket: 'CHG-42', backupTaken: true, smoke: false, comment: '' })).toEqual([]);
  });

  it.each([
    [{ risk: 'none', backupTaken: true }, [{ name: 'risk', reason: 'expected one of low, medium, high, not "none"' }]],
    [{ risk: true, backupTaken: true }, [{ name: 'risk', reason: 'expected one of low, medium, high' }]],
    [{ backupTaken: true }, [{ name: 'risk', reason: 'required' }]],
    [{ risk: '', backupTaken: true }, [{ name: 'risk', reason: 'required' }]],
    [{ risk: 'low' }, [{ name: 'backupTaken', reason: 'required: it must be true to proceed' }]],
    [{ risk: 'low', backupTaken: false }, [{ name: 'backupTaken', reason: 'required: it must be true to proceed' }]],
    [{ risk: 'low', backupTaken: 'yes' }, [{ name: 'backupTaken', reason: 'expected true or false' }]],
    [{ risk: 'low', backupTaken: true, ticket: 'JIRA-1' }, [{ name: 'ticket', reason: '"JIRA-1" does not match CHG-[0-9]+' }]],
    [{ risk: 'low', backupTaken: true, ticket: 'xCHG-1' }, [{ name: 'ticket', reason: '"xCHG-1" does not match CHG-[0-9]+' }]],
    [{ risk: 'low', backupTaken: true, comment: 7 }, [{ name: 'comment', reason: 'expected a text' }]],
    [{ risk: 'low', backupTaken: true, comment: 'x'.repeat(MAX_INPUT_LENGTH + 1) }, [{ name: 'comment', reason: `at most ${MAX_INPUT_LENGTH} characters; this is ${MAX_INPUT_LENGTH + 1}` }]],
    [{ risk: 'low', backupTaken: true, colour: 'red' }, [{ name: 'colour', reason: '"colour" is not an input of this step (it asks for risk, ticket, backupTaken, smoke, comment)' }]],
  ])('refuses %j, naming each bad one', (given, expected) => {
    expect(inputProblems(INPUTS, given)).toEqual(expected);
  });

  it('names every bad one at once', () => {
    expect(inputProblems(INPUTS, { risk: 'none', ticket: 'x', constructor: 'y' }).map((problem) => problem.name)).toEqual(['constructor', 'risk', 'ticket', 'backupTaken']);
  });

  it('refuses what is not an object, and any input on a step that asks for none', () => {
    expect(inputProblems(INPUTS, ['low'])).toEqual([{ name: '', reason: 'expected an object of input names and values' }]);
    expect(inputProblems([], { risk: 'low' })).toEqual([{ name: 'risk', reason: '"risk" is not an input of this step (it asks for none)' }]);
    expect(inputProblems([], undefined)).toEqual([]);
  });
});

describe('parseInputValue: a form\'s or a command line\'s text, typed', () => {
  it.each([
    ['true', true], ['on', true], ['yes', true], ['1', true],
    ['false', false], ['no', false], ['0', false], ['off', false],
    ['maybe', 'maybe'],
  ])('a boolean from %s → %j', (text, expected) => {
    expect(parseInputValue({ type: 'boolean' }, text)).toBe(expected);
  });

  it('keeps a text or a choice as written; empty is not given', () => {
    expect(parseInputValue({ type: 'text' }, 'true')).toBe('true');
    expect(parseInputValue({ type: 'choice' }, 'low')).toBe('low');
    expect(parseInputValue({ type: 'text' }, '')).toBeUndefined();
    expect(parseInputValue(undefined, 'x')).toBe('x');
  });
});

describe('inputOutputs', () => {
  it('sets each input under both spellings, booleans as True or False', () => {
    expect(inputOutputs('Sign-off', INPUTS.slice(0, 4), { risk: 'low', backupTaken: true }, true)).toEqual({
      'Action[Sign-off].Output.Manual.Input.risk': 'low',
      'Octopus.Action[Sign-off].Output.Manual.Input.risk': 'low',
      'Action[Sign-off].Output.Manual.Input.ticket': '',
      'Octopus.Action[Sign-off].Output.Manual.Input.ticket': '',
      'Action[Sign-off].Output.Manual.Input.backupTaken': 'True',
      'Octopus.Action[Sign-off].Output.Manual.Input.backupTaken': 'True',
      'Action[Sign-off].Output.Manual.Input.smoke': 'False',
      'Octopus.Action[Sign-off].Output.Manual.Input.smoke': 'False',
    });
  });

  it('leaves them empty when nobody proceeded', () => {
    expect(Object.values(inputOutputs('S', INPUTS, undefined, false))).toEqual(Array(10).fill(''));
    expect(inputOutputs('S', undefined, { risk: 'low' }, true)).toEqual({});
  });

  it('describes values for the timeline', () => {
    expect(describeInputs({ risk: 'low', backupTaken: true, note: 'say "hi"' })).toBe('risk="low", backupTaken=true, note="say \\"hi\\""');
  });
});

describe('a signal\'s inputs', () => {
  const user = { id: 'u', username: 'u', displayName: 'U' };
  it('takes texts and booleans, and refuses anything else by path', () => {
    expect(DecisionRequestSchema.safeParse({ user, inputs: { risk: 'low', ok: true } })).toMatchObject({ success: true, data: { inputs: { risk: 'low', ok: true } } });
    const bad = DecisionRequestSchema.safeParse({ user, inputs: { risk: 3, ok: null } });
    expect(bad.success).toBe(false);
    if (!bad.success) expect(bad.error.issues.map((issue) => issue.path.join('.'))).toEqual(['inputs.risk', 'inputs.ok']);
    expect(DecisionRequestSchema.safeParse({ user, inputs: ['low'] }).success).toBe(false);
  });
});

describe('the config: inputs by path', () => {
  const config = (inputs: string) => `teams: [{ id: release-managers, name: Release managers }]
projects:
  - id: p
    name: P
    environments: [production]
    process:
      - name: Sign-off
        type: manual
        responsibleTeams: [release-managers]
        inputs: ${inputs}
`;
  const problemsOf = (text: string) => {
    try {
      parseConfig(text, 'interlock.yaml');
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it('takes every type with its options', () => {
    const parsed = parseConfig(config(`[{ name: risk, type: choice, options: [low, high], required: true, description: How risky }, { name: ticket, type: text, pattern: 'CHG-[0-9]+' }, { name: backup, type: boolean }]`));
    expect(parsed.projects[0]!.process![0]).toMatchObject({ inputs: [{ name: 'risk', type: 'choice', options: ['low', 'high'], required: true }, { name: 'ticket', pattern: 'CHG-[0-9]+' }, { name: 'backup', type: 'boolean' }] });
  });

  it.each([
    ['[{ name: risk, type: text, options: [a] }]', ['projects[0].process[0].inputs[0].options: options go with type choice only, not text']],
    ['[{ name: risk, type: choice }]', ['projects[0].process[0].inputs[0].options: a choice needs its options']],
    ['[{ name: risk, type: choice, options: [a, a] }]', ['projects[0].process[0].inputs[0].options[1]: duplicate option "a"']],
    ['[{ name: t, type: text, pattern: "([" }]', ['projects[0].process[0].inputs[0].pattern: not a valid regular expression']],
    ['[{ name: b, type: boolean, pattern: "x" }]', ['projects[0].process[0].inputs[0].pattern: pattern goes with type text only, not boolean']],
    ['[{ name: a, type: text }, { name: a, type: boolean }]', ['projects[0].process[0].inputs[1].name: duplicate input name "a"']],
    ['[{ name: "has space", type: text }]', [expect.stringMatching(/^projects\[0\]\.process\[0\]\.inputs\[0\]\.name: a letter/)]],
    ['[{ name: x, type: number }]', [expect.stringMatching(/^projects\[0\]\.process\[0\]\.inputs\[0\]\.type: /)]],
  ])('refuses %s', (inputs, expected) => {
    expect(problemsOf(config(inputs))).toEqual(expected);
  });

  it('declarationProblems lists them all at once', () => {
    expect(declarationProblems([{ name: 'a', type: 'choice' }, { name: 'a', type: 'text', pattern: '(' }])).toHaveLength(3);
  });
});
