import type { CloudEvent } from '../workflows/messages.js';

/** A finished release's Keptn events and which deployment sent each task's `.triggered` event. */
export interface ReleaseEvents {
  id: string;
  events: CloudEvent[];
  deployments: Record<string, string>;
}

/**
 * The events of finished releases, kept in the API process: a finished release's events never
 * change, but only a replay of its whole history on a worker can tell them. So each is read once
 * (reads of the same release at the same moment share that one read) and kept, the least recently
 * read dropped first beyond `maxBytes` of JSON. A read that fails is not kept.
 */
export class FinalEvents {
  private readonly entries = new Map<string, { answer: Promise<ReleaseEvents>; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  /** The kept answer, or the one under way; undefined when neither. */
  get(id: string): Promise<ReleaseEvents> | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    // Most recently read last: the first in the map is the first to go.
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry.answer;
  }

  /** Reads a finished release's events with `read`, unless a read of it is kept or under way. */
  read(id: string, read: () => Promise<ReleaseEvents>): Promise<ReleaseEvents> {
    const known = this.get(id);
    if (known) return known;
    const entry = { answer: read(), bytes: 0 };
    this.entries.set(id, entry);
    entry.answer.then(
      (answer) => {
        if (this.entries.get(id) !== entry) return;
        entry.bytes = JSON.stringify(answer).length;
        this.bytes += entry.bytes;
        this.evict();
      },
      () => {
        if (this.entries.get(id) === entry) this.entries.delete(id);
      },
    );
    return entry.answer;
  }

  /** How many releases are kept (or being read), and the size of what is kept. */
  get size(): { releases: number; bytes: number } {
    return { releases: this.entries.size, bytes: this.bytes };
  }

  private evict(): void {
    for (const [id, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) return;
      // Reads under way weigh nothing yet: they are left to finish.
      if (entry.bytes === 0) continue;
      this.entries.delete(id);
      this.bytes -= entry.bytes;
    }
  }
}
