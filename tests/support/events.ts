import { DeploymentSchema } from '../../api/schemas.js';
import type { Deployment, Reader } from './api.js';

/** A server-sent `deployment` event: its id (for Last-Event-ID) and the view it carries. */
export interface DeploymentEvent {
  id: string;
  data: Deployment;
}

/**
 * Reads server-sent events from a streaming response until `stop` says enough or the stream ends.
 * Each event's data must be a Deployment as the OpenAPI document describes it.
 */
export async function readEvents(response: { body: ReadableStream<Uint8Array<ArrayBuffer>> | null }, stop: (events: DeploymentEvent[]) => boolean): Promise<{ events: DeploymentEvent[]; ended: boolean }> {
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
      if (fields.event === 'deployment') {
        const data: unknown = JSON.parse(fields.data ?? 'null');
        DeploymentSchema.parse(data);
        events.push({ id: fields.id ?? '', data: data as Deployment });
      }
      if (stop(events)) {
        await reader.cancel();
        return { events, ended: false };
      }
    }
  }
}

/** Follows the deployment's event stream (as vic) until a view satisfies `done`, and returns that view; fails if the stream ends first. */
export async function followUntil(on: Reader, id: string, done: (view: Deployment) => boolean, timeoutMs = 60_000): Promise<Deployment> {
  const response = await on.api('vic').api.deployments[':id'].events.$get({ param: { id } }, { init: { signal: AbortSignal.timeout(timeoutMs) } });
  const { events, ended } = await readEvents(response, (seen) => seen.length > 0 && done(seen.at(-1)!.data));
  if (ended) throw new Error(`deployment ${id} ended its stream without getting there; last: ${JSON.stringify(events.at(-1)?.data).slice(0, 500)}`);
  return events.at(-1)!.data;
}
