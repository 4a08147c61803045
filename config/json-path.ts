import parse from 'jsonpath-rfc9535/parser';

/** Whether `expression` is an RFC 9535 filter expression (what follows `?` in `$[?…]`), with `@` the value it is asked of. */
export function isJsonPathFilter(expression: string): boolean {
  try {
    parse(`$[?${expression}]`);
    return true;
  } catch {
    return false;
  }
}
