import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { CloudEvent } from '../../core/cloud-events.js';

/** What a webhook receiver got: the path it was sent to, the headers, the raw body, the body as JSON, and the CloudEvent it is, if it is one. */
export interface Delivery {
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: unknown;
  event: CloudEvent | undefined;
}

/** Whether parsed JSON is a CloudEvent in structured mode, as Interlock sends them. */
export const isCloudEvent = (value: unknown): value is CloudEvent =>
  value !== null && typeof value === 'object' && 'specversion' in value && value.specversion === '1.0' && 'type' in value && typeof value.type === 'string';

/** How a receiver answers a delivery: a status, with headers; status 0 never answers (the sender's timeout must end it). */
export type Answer = number | { status: number; headers: Record<string, string> };

/** A webhook receiver on 127.0.0.1 that keeps every delivery and answers 200 (or what `answer` says). */
export async function startWebhookReceiver(answer: (delivery: Delivery) => Answer = () => 200) {
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
      const delivery = { url: request.url ?? '', headers: request.headers, body, json, event: isCloudEvent(json) ? json : undefined };
      deliveries.push(delivery);
      const answered = answer(delivery);
      const { status, headers } = typeof answered === 'number' ? { status: answered, headers: {} } : answered;
      if (status !== 0) response.writeHead(status, headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    /** Where it listens, without a path. */
    origin,
    url: `${origin}/hook`,
    deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
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

/** A mail as a real SMTP server on 127.0.0.1 received it: the envelope, who signed in to send it, and the parsed message. */
export interface Mail {
  from: string;
  to: string[];
  user: string | undefined;
  parsed: ParsedMail;
}

export interface SmtpOptions {
  /** The one login it takes (then required); without it, anyone may send. */
  login?: { user: string; password: string };
  /** The reply code a recipient is refused with (4xx: try later, 5xx: no such mailbox); undefined accepts them. */
  refuse?: (address: string) => number | undefined;
}

/** A real SMTP server (the `smtp-server` package) on 127.0.0.1; `SMTP_URL` for Interlock. */
export async function startSmtpServer({ login, refuse }: SmtpOptions = {}) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: !login,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (login && auth.username === login.user && auth.password === login.password) return callback(null, { user: auth.username });
      callback(Object.assign(new Error('Authentication failed'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      const code = refuse?.(address.address);
      if (code) return callback(Object.assign(new Error(code >= 500 ? 'No such mailbox' : 'Mailbox busy, try later'), { responseCode: code }));
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((address) => address.address),
            user: typeof session.user === 'string' ? session.user : undefined,
            parsed,
          });
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
    port,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
