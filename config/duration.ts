const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
const DURATION = /^(?:\d+(?:ms|d|h|m|s))+$/;
const PART = /(\d+)(ms|d|h|m|s)/g;

/** Parses `90s`, `10m`, `72h`, `1h30m`, `2d` into milliseconds; `undefined` when malformed. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return total > 0 ? total : undefined;
}
