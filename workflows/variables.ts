/** Variables by name (`Project`, `Release`, `Action[Step].Output.Manual.Notes`, …). Pure: no I/O, no Temporal. */
export type Variables = Record<string, string>;

export type Substitution = { ok: true; text: string } | { ok: false; unknown: string[] };

// `##{Name}` is a literal `#{Name}`, as in Octopus.
const REFERENCE = /#(#?)\{([^{}]+)\}/g;

/** Replaces every `#{Name}`; an unknown name is an error, never an empty string. */
export function substitute(template: string, variables: Variables): Substitution {
  const unknown: string[] = [];
  const text = template.replace(REFERENCE, (whole, escaped: string, name: string) => {
    if (escaped) return whole.slice(1);
    const value = variables[name.trim()];
    if (value === undefined) {
      unknown.push(name.trim());
      return whole;
    }
    return value;
  });
  return unknown.length > 0 ? { ok: false, unknown: [...new Set(unknown)] } : { ok: true, text };
}

export function describeUnknown(unknown: string[]): string {
  const names = unknown.map((name) => `#{${name}}`).join(', ');
  return `unknown variable${unknown.length > 1 ? 's' : ''} ${names}: define ${unknown.length > 1 ? 'them' : 'it'} in the project's variables or pass ${unknown.length > 1 ? 'them' : 'it'} when triggering the deployment`;
}
