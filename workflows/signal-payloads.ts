import { OVERRIDE_REASON_MAX } from '../core/break-glass.js';
import { type InputValues, MAX_NOTES } from '../core/interruptions.js';
import { MAX_INPUT_LENGTH, MAX_INPUTS } from '../core/approver-inputs.js';
import type { CancelRequest, DecisionRequest, OverrideRequest, TakeResponsibilityRequest } from './messages.js';
import { ACTOR_ROLES, type ActorRole } from '../core/names.js';

// Signals come from anyone with access to the namespace (Temporal Web, `temporal workflow signal`),
// so their payloads are checked like any other input before the workflow reads them.
//
// Why not zod here, as everywhere else: workflow code is instantiated once per cached workflow, and
// zod's modules cost about 2 MB in each (measured with `npm run bench:scale`: 1,000 waiting
// deployments held 976 MiB with zod in the bundle and 570 MiB without). These four small shapes
// are checked by the few lines below; the API checks the same requests with zod before they come.

export interface Issue {
  path: (string | number)[];
  message: string;
}

export type Parsed<T> = { success: true; data: T } | { success: false; error: { issues: Issue[]; message: string } };

/** A check of one value: its parsed form, or issues added and `undefined`. */
type Check<T> = (value: unknown, path: (string | number)[], issues: Issue[]) => T | undefined;

const string = ({ min = 0, max = Infinity } = {}): Check<string> => (value, path, issues) => {
  if (typeof value !== 'string') return void issues.push({ path, message: 'expected a string' });
  if (value.length < min) return void issues.push({ path, message: `expected at least ${min} character${min === 1 ? '' : 's'}` });
  if (value.length > max) return void issues.push({ path, message: `expected at most ${max} characters` });
  return value;
};

const datetime: Check<string> = (value, path, issues) => {
  const text = string({ min: 1 })(value, path, issues);
  if (text !== undefined && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(text)) return void issues.push({ path, message: 'expected an ISO date-time' });
  return text;
};

const boolean: Check<boolean> = (value, path, issues) => (typeof value === 'boolean' ? value : void issues.push({ path, message: 'expected a boolean' }));

const list = <T>(item: Check<T>): Check<T[]> => (value, path, issues) => {
  if (!Array.isArray(value)) return void issues.push({ path, message: 'expected an array' });
  const before = issues.length;
  const items = value.map((entry, i) => item(entry, [...path, i], issues));
  return issues.length === before ? (items as T[]) : undefined;
};

const role: Check<ActorRole> = (value, path, issues) =>
  (ACTOR_ROLES as readonly unknown[]).includes(value) ? (value as ActorRole) : void issues.push({ path, message: `expected one of ${ACTOR_ROLES.join(', ')}` });

type Shape = Record<string, { check: Check<unknown>; optional?: boolean; default?: () => unknown }>;

/** An object with these fields (others are dropped); optional ones may be absent, defaults fill in. */
const object = <T>(shape: Shape): Check<T> => (value, path, issues) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return void issues.push({ path, message: 'expected an object' });
  const before = issues.length;
  const result: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(shape)) {
    const raw = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
    if (raw === undefined) {
      if (field.default) result[key] = field.default();
      else if (!field.optional) issues.push({ path: [...path, key], message: 'required' });
      continue;
    }
    result[key] = field.check(raw, [...path, key], issues);
  }
  return issues.length === before ? (result as T) : undefined;
};

/** A schema with zod's two calls, so handlers read the same either way. */
function schema<T>(check: Check<T>) {
  const safeParse = (value: unknown): Parsed<T> => {
    const issues: Issue[] = [];
    const data = check(value, [], issues);
    if (issues.length === 0) return { success: true, data: data as T };
    return { success: false, error: { issues, message: issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ') } };
  };
  return {
    safeParse,
    parse(value: unknown): T {
      const result = safeParse(value);
      if (!result.success) throw new TypeError(result.error.message);
      return result.data;
    },
  };
}

const actor = object({
  id: { check: string({ min: 1 }) },
  username: { check: string({ min: 1 }) },
  displayName: { check: string({ min: 1 }) },
  email: { check: string(), optional: true },
  teams: { check: list(string()), default: () => [] },
  roles: { check: list(role), default: () => [] },
});

const base: Shape = {
  user: { check: actor },
  interruptionId: { check: string({ min: 1 }), optional: true },
  expiresAt: { check: datetime, optional: true },
};

export const TakeResponsibilityRequestSchema = schema<TakeResponsibilityRequest>(object({ ...base, takeOver: { check: boolean, optional: true } }));

/** Approver inputs: names and values, a value a text or a boolean; what each input asks is the state machine's to check (core/approver-inputs.ts). */
const inputValues: Check<InputValues> = (value, path, issues) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return void issues.push({ path, message: 'expected an object of input names and values' });
  const entries = Object.entries(value);
  if (entries.length > MAX_INPUTS) return void issues.push({ path, message: `expected at most ${MAX_INPUTS} inputs` });
  const before = issues.length;
  for (const [name, entry] of entries) {
    if (typeof entry === 'boolean') continue;
    string({ max: MAX_INPUT_LENGTH })(entry, [...path, name], issues);
  }
  return issues.length === before ? Object.fromEntries(entries) as InputValues : undefined;
};

export const DecisionRequestSchema = schema<DecisionRequest>(
  object({ ...base, notes: { check: string({ max: MAX_NOTES }), optional: true }, inputs: { check: inputValues, optional: true }, runAt: { check: datetime, optional: true } }),
);

/** Who asked for the cancellation that follows; anyone with access to the namespace can send it, so it is checked too. */
export const CancelRequestSchema = schema<CancelRequest>(
  object({ user: { check: object({ id: { check: string({ min: 1 }) }, username: { check: string({ min: 1 }) }, displayName: { check: string({ min: 1 }) } }) } }),
);

/** Break-glass: which interruption, and why (the reason's own rule is applied by the handler, in its words). */
export const OverrideRequestSchema = schema<OverrideRequest>(
  object({ ...base, interruptionId: { check: string({ min: 1 }) }, reason: { check: string({ max: OVERRIDE_REASON_MAX * 2 }) } }),
);
