/** The methods the app serves at a path, for `405 Method Not Allowed` with `Allow` (RFC 9110 §15.5.6). */
export function allowedMethods(routes: readonly { method: string; path: string }[], path: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    if (route.method === 'ALL' || !patternOf(route.path).test(path)) continue;
    methods.add(route.method);
    if (route.method === 'GET') methods.add('HEAD');
  }
  return [...methods].sort();
}

const patterns = new Map<string, RegExp>();

/** Hono's route syntax (`/a/:id`, `/a/:action{x|y}`, `/a/*`) as a regular expression. */
function patternOf(route: string): RegExp {
  let pattern = patterns.get(route);
  if (!pattern) {
    const source = route
      .split('/')
      .map((segment) => {
        if (segment === '*') return '.*';
        const param = /^:[^{]+(?:\{(.+)\})?$/.exec(segment);
        if (param) return param[1] ? `(?:${param[1]})` : '[^/]+';
        return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    pattern = new RegExp(`^${source}/?$`);
    patterns.set(route, pattern);
  }
  return pattern;
}
