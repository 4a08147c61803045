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
    // Own names only: `#{constructor}` is an unknown variable, not a function's source.
    const value = Object.hasOwn(variables, name.trim()) ? variables[name.trim()] : undefined;
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

/** Whether a value comes from outside (a trigger, a person) rather than from the config: it may not choose where a URL goes. */
export const isOutside = (name: string, prompted: readonly string[]) =>
  name === 'Release' || /^Action\[.*\]\./.test(name) || prompted.includes(name);

export type UrlSubstitution = Substitution | { ok: false; unknown: []; refused: string };

/**
 * `#{Name}` in an http-check URL (docs/configuration.md). A value from outside (prompted variables, the release,
 * step outputs) is percent-encoded where it lands, so it can change a path segment or a query value
 * but never the scheme, host or port; one that stands in the scheme, host or port is refused.
 * Values from the config (`Environment`, `Interlock.Url`, a project's own variables) go in as written.
 */
export function substituteUrl(template: string, variables: Variables, prompted: readonly string[]): UrlSubstitution {
  const authorityEnd = (() => {
    const start = template.indexOf('//');
    const from = start >= 0 ? start + 2 : 0;
    const end = template.slice(from).search(/[/?#](?!\{)/);
    return end < 0 ? template.length : from + end;
  })();
  const unknown: string[] = [];
  const outsideInAuthority: string[] = [];
  const text = template.replace(REFERENCE, (whole, escaped: string, raw: string, offset: number) => {
    if (escaped) return whole.slice(1);
    const name = raw.trim();
    const value = Object.hasOwn(variables, name) ? variables[name] : undefined;
    if (value === undefined) {
      unknown.push(name);
      return whole;
    }
    if (!isOutside(name, prompted)) return value;
    if (offset < authorityEnd) outsideInAuthority.push(name);
    return encodeURIComponent(value);
  });
  if (unknown.length > 0) return { ok: false, unknown: [...new Set(unknown)] };
  if (outsideInAuthority.length > 0) {
    const names = [...new Set(outsideInAuthority)].map((name) => `#{${name}}`).join(', ');
    return { ok: false, unknown: [], refused: `${names} comes from whoever triggered the deployment, so it may set a path or a query value, never the scheme, host or port` };
  }
  return { ok: true, text };
}
