import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The API's signing secret: `INTERLOCK_SESSION_SECRET` (at least 32 characters), or else random per
 * process. It signs dashboard sessions and the page tokens of lists; several API processes behind
 * one address need the variable so that each accepts what another signed.
 */
export const serverSecret = secretFrom(process.env.INTERLOCK_SESSION_SECRET);

function secretFrom(configured: string | undefined): Buffer {
  if (!configured) return randomBytes(32);
  if (configured.length < 32) throw new Error('INTERLOCK_SESSION_SECRET must be at least 32 characters (e.g. openssl rand -hex 32).');
  return Buffer.from(configured, 'utf8');
}

/** An HMAC-SHA256 of `text`, kept apart per `purpose` so one signature never passes for another. */
export const mac = (purpose: string, text: string) => createHmac('sha256', serverSecret).update(`${purpose}\n${text}`).digest('base64url');

/** `text.signature`, so what we hand out comes back unchanged or not at all. */
export const seal = (purpose: string, text: string) => `${text}.${mac(purpose, text).slice(0, 22)}`;

export function unseal(purpose: string, sealed: string): string | undefined {
  const dot = sealed.lastIndexOf('.');
  if (dot < 0) return undefined;
  const text = sealed.slice(0, dot);
  const expected = Buffer.from(mac(purpose, text).slice(0, 22));
  const presented = Buffer.from(sealed.slice(dot + 1));
  return expected.length === presented.length && timingSafeEqual(expected, presented) ? text : undefined;
}
