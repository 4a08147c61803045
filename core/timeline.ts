import type { TimelineEntry } from './views.js';

/** At most this many entries; beyond it the oldest refusals go first (decisions are few and all kept). */
export const TIMELINE_LIMIT = 500;
/** How far back a refusal looks for its twin to join. */
const COALESCE_WINDOW = 50;

const sameRefusal = (a: TimelineEntry, b: TimelineEntry) =>
  a.result !== 'accepted' && a.result === b.result && a.user === b.user && a.action === b.action && a.reason === b.reason && a.interruption === b.interruption && a.via === b.via;

/**
 * Adds an entry to the timeline. A refusal (or failure) of the same person, action and reason as a recent one
 * joins it (`count`, `lastAt`) instead of adding a line, and the timeline never grows past
 * `TIMELINE_LIMIT`: a flood of refused signals costs a counter, not the view. Pure.
 */
export function record(timeline: TimelineEntry[], entry: TimelineEntry): void {
  if (entry.result !== 'accepted') {
    for (let i = timeline.length - 1; i >= Math.max(0, timeline.length - COALESCE_WINDOW); i--) {
      const twin = timeline[i]!;
      if (sameRefusal(twin, entry)) {
        twin.count = (twin.count ?? 1) + 1;
        twin.lastAt = entry.at;
        return;
      }
    }
  }
  timeline.push(entry);
  while (timeline.length > TIMELINE_LIMIT) {
    const oldestRefusal = timeline.findIndex((candidate) => candidate.result !== 'accepted');
    timeline.splice(oldestRefusal >= 0 ? oldestRefusal : 0, 1);
  }
}
