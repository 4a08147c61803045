/** A server-sent `deployment` event: its id (for Last-Event-ID) and the view it carries. */
export interface DeploymentEvent {
  id: string;
  data: any;
}

/** Reads server-sent events from a streaming response until `stop` says enough or the stream ends. */
export async function readEvents(response: Response, stop: (events: DeploymentEvent[]) => boolean): Promise<{ events: DeploymentEvent[]; ended: boolean }> {
  const events: DeploymentEvent[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { events, ended: true };
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields: Record<string, string> = Object.fromEntries(block.split('\n').filter((line) => !line.startsWith(':')).map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon), line.slice(colon + 1).trimStart()];
      }));
      if (fields.event === 'deployment') events.push({ id: fields.id ?? '', data: JSON.parse(fields.data ?? 'null') });
      if (stop(events)) {
        await reader.cancel();
        return { events, ended: false };
      }
    }
  }
}

