import type { Variables } from './substitution.js';

/** A script ready to run: its text, with every `#{Name}` a quoted reference to an environment variable that holds the value. */
export type ShellScript = { ok: true; script: string; env: Record<string, string> } | { ok: false; unknown: string[] };

/** Where a reference stands in the script's text, as bash reads it. */
type Quoting = 'none' | 'single' | 'double';

const REFERENCE = /#(#?)\{([^{}]+)\}/y;

/**
 * Turns a `run` template into a script in which no value is ever shell code (docs/configuration.md). Each value
 * reaches bash as an environment variable (`INTERLOCK_VAR_0`, …), and `#{Name}` becomes a reference
 * to it quoted for where it stands: `"${V}"` outside quotes, `${V}` inside double quotes, and
 * `'"${V}"'` inside single quotes (closing and reopening them). Bash expands a variable's value
 * exactly once and never parses it, so `$(…)`, backquotes, `;`, quotes and newlines stay data.
 * `##{Name}` is a literal `#{Name}`. An unknown name is an error, never an empty string. Pure.
 */
export function toShell(template: string, variables: Variables): ShellScript {
  const env: Record<string, string> = {};
  const names = new Map<string, string>();
  const unknown = new Set<string>();
  let script = '';
  let quoting: Quoting = 'none';
  for (let i = 0; i < template.length; ) {
    REFERENCE.lastIndex = i;
    const reference = REFERENCE.exec(template);
    if (reference) {
      const [whole, escaped, raw] = reference;
      i += whole.length;
      if (escaped) {
        script += whole.slice(1);
        continue;
      }
      const name = raw!.trim();
      if (!Object.hasOwn(variables, name)) {
        unknown.add(name);
        continue;
      }
      let envName = names.get(name);
      if (!envName) {
        envName = `INTERLOCK_VAR_${names.size}`;
        names.set(name, envName);
        env[envName] = variables[name]!;
      }
      script += quoting === 'double' ? `\${${envName}}` : quoting === 'single' ? `'"\${${envName}}"'` : `"\${${envName}}"`;
      continue;
    }
    const char = template[i]!;
    script += char;
    i++;
    if (quoting === 'single') {
      if (char === "'") quoting = 'none';
    } else if (char === '\\') {
      // A backslash keeps the next character literal outside single quotes.
      if (i < template.length) script += template[i++];
    } else if (char === '"') {
      quoting = quoting === 'double' ? 'none' : 'double';
    } else if (char === "'" && quoting === 'none') {
      quoting = 'single';
    }
  }
  return unknown.size > 0 ? { ok: false, unknown: [...unknown] } : { ok: true, script, env };
}
