const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
const DURATION = /^(?:\d+(?:ms|d|h|m|s))+$/;
const PART = /(\d+)(ms|d|h|m|s)/g;

/**
 * The one duration grammar of the config file and the CLI: `90s`, `10m`, `72h`, `1h30m`, `2d`,
 * `500ms`. Milliseconds; `undefined` when malformed or zero. Command-line flags also take a bare
 * number of seconds (`--timeout 300`); a config file must say its unit.
 */
export function parseDuration(text: string, { bareSeconds = false } = {}): number | undefined {
  let total = 0;
  if (bareSeconds && /^\d+$/.test(text)) total = Number(text) * 1000;
  else if (DURATION.test(text)) {
    for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return total > 0 ? total : undefined;
}

/** `2m 31s`, `3h`, `0s`: whole seconds, for people reading a terminal or a log. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const parts = [[Math.floor(seconds / 3600), 'h'], [Math.floor(seconds / 60) % 60, 'm'], [seconds % 60, 's']] as const;
  return parts.filter(([n], i) => n > 0 || (i === 2 && seconds === 0)).map(([n, unit]) => `${n}${unit}`).join(' ');
}

/** A protobuf timestamp (as Temporal's API answers with one: `seconds`, `nanos`) as ISO 8601; null without one. */
export function isoOfTimestamp(value: { seconds?: unknown; nanos?: number | null } | null | undefined): string | null {
  if (!value?.seconds) return null;
  return new Date(Number(value.seconds) * 1000 + Math.floor((value.nanos ?? 0) / 1e6)).toISOString();
}
