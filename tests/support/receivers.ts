import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { CloudEvent } from '../../core/cloud-events.js';

/** What a webhook receiver got: the headers, the raw body, the body as JSON, and the CloudEvent it is, if it is one. */
export interface Delivery {
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: unknown;
  event: CloudEvent | undefined;
}

/** Whether parsed JSON is a CloudEvent in structured mode, as Interlock sends them. */
export const isCloudEvent = (value: unknown): value is CloudEvent =>
  value !== null && typeof value === 'object' && 'specversion' in value && value.specversion === '1.0' && 'type' in value && typeof value.type === 'string';

/** A webhook receiver on 127.0.0.1 that keeps every delivery and answers 200 (or what `answer` says). */
export async function startWebhookReceiver(answer: (delivery: Delivery) => number = () => 200) {
  const deliveries: Delivery[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        json = undefined;
      }
      const delivery = { headers: request.headers, body, json, event: isCloudEvent(json) ? json : undefined };
      deliveries.push(delivery);
      response.writeHead(answer(delivery)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The receiver's side of GitHub's scheme: the HMAC-SHA256 of the raw body, compared in constant time. */
export function signatureIsValid(secret: string, { headers, body }: Pick<Delivery, 'headers' | 'body'>): boolean {
  const header = headers['x-interlock-signature'];
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A mail as a real SMTP server on 127.0.0.1 received it: the envelope and the parsed message. */
export interface Mail {
  to: string[];
  parsed: ParsedMail;
}

/** A real SMTP server (the `smtp-server` package) on 127.0.0.1, accepting every message; `SMTP_URL` for Interlock. */
export async function startSmtpServer() {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          mails.push({ to: session.envelope.rcptTo.map((address) => address.address), parsed });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
