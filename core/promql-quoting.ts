/**
 * `#{Name}` in a Prometheus query (an SLI source): a value is data, never PromQL. Pure: no I/O, no
 * Temporal, so the config loader and the evaluation read a query the same way.
 *
 * A value goes in only where the query quotes it — inside `"…"`, `'…'` or a backtick raw string —
 * escaped for that string (PromQL's strings take Go's escapes, and only the quote that opened them
 * may be escaped; a raw string has no escapes, so a value holding a backtick is refused). Outside
 * quotes (and in a `#` comment, which a newline would end) a value would be code: only a value that
 * the config or Interlock sets may stand there, or one that is a plain number or duration.
 */

import type { Variables } from './substitution.js';

/** Where a placeholder stands: in a string literal of one of PromQL's kinds, or in the query's code. */
export type PromqlContext = 'double' | 'single' | 'raw' | 'code';

export interface PromqlPlaceholder {
  name: string;
  context: PromqlContext;
}

/** A value that may stand outside quotes whoever gave it: a number (`0.5`, `-3`) or a PromQL duration (`5m`, `1h30m`). */
export const NUMBER_OR_DURATION = /^(?:-?(?:\d+(?:\.\d+)?|\.\d+)|(?:\d+(?:ms|[smhdwy]))+)$/;

/** Built-ins that hold what a trigger gave (the release is in the ids too): data wherever they stand. */
const FROM_TRIGGER = ['Release', 'Deployment.Id', 'Release.Id'];

/**
 * A value that neither a trigger nor a person can choose: the config's own (a project variable
 * that is not prompted, `Environment`, `Stage`, `Interlock.Url`, …) or Interlock's (`Evaluation.*`).
 */
export const isConfigValue = (name: string, prompted: readonly string[]): boolean =>
  !FROM_TRIGGER.includes(name) && !/^Action\[.*\]\./.test(name) && !prompted.includes(name);

// `##{Name}` is a literal `#{Name}`, as everywhere else.
const REFERENCE = /^#(#?)\{([^{}]+)\}/;

type Piece = { text: string } | { name: string; context: PromqlContext; whole: string };

/**
 * The query cut into its own text and its placeholders, each with where it stands. The scan follows
 * PromQL's lexer: strings (with their backslash escapes; a newline ends a quoted string, as it is an
 * error there), raw strings, and `#` comments to the end of the line.
 */
function scan(query: string): Piece[] {
  const pieces: Piece[] = [];
  let text = '';
  let state: PromqlContext | 'comment' = 'code';
  for (let i = 0; i < query.length; ) {
    const char = query[i]!;
    const reference = char === '#' ? REFERENCE.exec(query.slice(i)) : null;
    if (reference) {
      const [whole, escaped, raw] = reference;
      if (escaped) text += whole.slice(1);
      else {
        pieces.push({ text }, { name: raw!.trim(), context: state === 'comment' ? 'code' : state, whole });
        text = '';
      }
      i += whole.length;
      continue;
    }
    text += char;
    i += 1;
    if (state === 'code') {
      if (char === '"') state = 'double';
      else if (char === "'") state = 'single';
      else if (char === '`') state = 'raw';
      else if (char === '#') state = 'comment';
    } else if (state === 'double' || state === 'single') {
      if (char === '\\' && i < query.length) {
        // The escaped character is the string's, whatever it is: `"\#{X}"` holds no placeholder.
        text += query[i]!;
        i += 1;
      } else if (char === (state === 'double' ? '"' : "'") || char === '\n') state = 'code';
    } else if (state === 'raw') {
      if (char === '`') state = 'code';
    } else if (char === '\n') state = 'code';
  }
  pieces.push({ text });
  return pieces;
}

/** Every placeholder of a query, in order, with where it stands. */
export function promqlPlaceholders(query: string): PromqlPlaceholder[] {
  return scan(query).flatMap((piece) => ('name' in piece ? [{ name: piece.name, context: piece.context }] : []));
}

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const GO_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/** A value as the content of a PromQL string of that kind, or why it cannot be one. */
export function quotePromql(value: string, context: Exclude<PromqlContext, 'code'>): { ok: true; text: string } | { ok: false; why: string } {
  // Not UTF-8 once sent: Prometheus refuses the query, and fetch refuses to encode it.
  if (UNPAIRED_SURROGATE.test(value)) return { ok: false, why: 'it holds an unpaired UTF-16 surrogate, which no query can carry' };
  if (context === 'raw') {
    return value.includes('`') ? { ok: false, why: 'it holds a backtick, which a raw string (`…`) cannot hold; quote the placeholder with "…" instead' } : { ok: true, text: value };
  }
  const quote = context === 'double' ? '"' : "'";
  const text = value.replace(/[\\"'\x00-\x1f\x7f]/g, (char) => {
    if (char === '\\' || char === quote) return `\\${char}`;
    if (char === '"' || char === "'") return char;
    return GO_ESCAPES[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  return { ok: true, text };
}

export type PromqlSubstitution = { ok: true; text: string } | { ok: false; unknown: string[] } | { ok: false; unknown: []; refused: string };

/**
 * Replaces every `#{Name}` of a query: quoted where the query quotes it; outside quotes only when
 * `bare(name, value)` allows it (the caller knows which values come from the config). An unknown
 * name is an error, as everywhere; a value that cannot go where it stands is refused, naming it
 * (never quoting the value: it may be sensitive).
 */
export function substitutePromql(query: string, variables: Variables, bare: (name: string, value: string) => boolean): PromqlSubstitution {
  const unknown: string[] = [];
  const refused: string[] = [];
  let text = '';
  for (const piece of scan(query)) {
    if ('text' in piece) {
      text += piece.text;
      continue;
    }
    const value = Object.hasOwn(variables, piece.name) ? variables[piece.name] : undefined;
    if (value === undefined) {
      unknown.push(piece.name);
      text += piece.whole;
    } else if (piece.context === 'code') {
      if (bare(piece.name, value)) text += value;
      else refused.push(`#{${piece.name}} stands outside quotes, where its value would be PromQL, and it is not a number or a duration; quote it ("#{${piece.name}}")`);
    } else {
      const quoted = quotePromql(value, piece.context);
      if (quoted.ok) text += quoted.text;
      else refused.push(`#{${piece.name}} cannot go in the query: ${quoted.why}`);
    }
  }
  if (unknown.length > 0) return { ok: false, unknown: [...new Set(unknown)] };
  if (refused.length > 0) return { ok: false, unknown: [], refused: [...new Set(refused)].join('; ') };
  return { ok: true, text };
}

/**
 * Whether a variable's `pattern` allows only numbers and durations, read from how it is written:
 * digits, `\d`, `\.`, `-`, classes of those (`[0-9.]`, `[smh]`), the duration units `ms s m h d w y`,
 * groups, `|`, `^`, `$` and quantifiers, nothing else. Every value such a pattern admits is made
 * of digits, `.`, `-` and those letters, which spell no PromQL operator, keyword, string or
 * selector; the evaluation still refuses, outside quotes, a value that is no number or duration.
 */
export function allowsOnlyNumbers(pattern: string): boolean {
  let i = 0;
  let depth = 0;
  let quantifiable = false;
  const peek = (text: string) => pattern.startsWith(text, i);
  while (i < pattern.length) {
    const char = pattern[i]!;
    if (/[0-9smhdwy-]/.test(char)) {
      i += 1;
      quantifiable = true;
    } else if (peek('\\d') || peek('\\.') || peek('\\-')) {
      i += 2;
      quantifiable = true;
    } else if (char === '[') {
      const end = pattern.indexOf(']', i + 1);
      const members = end < 0 ? '' : pattern.slice(i + 1, end);
      // Digits, ranges of digits, `\d`, a dot, `\-`, the units; a bare `-` elsewhere would make a range (`[.-9]` holds `/`).
      if (!/^(?:[0-9](?:-[0-9])?|\\d|\\\.|\.|\\-|[smhdwy])+$/.test(members)) return false;
      i = end + 1;
      quantifiable = true;
    } else if (char === '(') {
      i += peek('(?:') ? 3 : 1;
      depth += 1;
      quantifiable = false;
    } else if (char === ')') {
      if (depth === 0) return false;
      depth -= 1;
      i += 1;
      quantifiable = true;
    } else if (char === '|' || char === '^' || char === '$') {
      i += 1;
      quantifiable = false;
    } else if (char === '?' || char === '*' || char === '+' || char === '{') {
      if (!quantifiable) return false;
      const quantifier = /^(?:[?*+]|\{\d+(?:,\d*)?\})\??/.exec(pattern.slice(i));
      if (!quantifier) return false;
      i += quantifier[0].length;
      quantifiable = false;
    } else return false;
  }
  return depth === 0;
}
