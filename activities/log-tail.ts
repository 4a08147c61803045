/** Keeps the last `limit` characters of a stream of output, saying when earlier output was dropped. */
export class LogTail {
  private text = '';
  private dropped = false;

  /** `filter` runs over what is kept each time it is read (masking sensitive values, whichever chunks they came in). */
  constructor(
    private readonly filter: (text: string) => string = (text) => text,
    private readonly limit = 64 * 1024,
  ) {}

  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.limit) {
      this.text = this.text.slice(this.text.length - this.limit);
      this.dropped = true;
    }
  }

  toString(): string {
    const text = this.filter(this.text);
    return this.dropped ? `… (earlier output dropped; the last ${this.limit / 1024} KiB follow)\n${text}` : text;
  }
}
