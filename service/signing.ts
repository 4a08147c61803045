import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** Signs what the API hands out (dashboard sessions, page tokens) so it comes back unchanged or not at all. */
export interface Signer {
  /** An HMAC-SHA256 of `text`, kept apart per `purpose` so one signature never passes for another. */
  mac(purpose: string, text: string): string;
  /** `text.signature`. */
  seal(purpose: string, text: string): string;
  /** The text of a sealed value, or undefined when the signature does not match. */
  unseal(purpose: string, sealed: string): string | undefined;
}

/**
 * A signer keyed by `INTERLOCK_SESSION_SECRET` (checked by `config/env.ts`, passed in here), or else
 * a random key per process: several API processes behind one address need the variable, so that
 * each accepts what another signed.
 */
export function createSigner(secret?: string): Signer {
  const key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  const mac = (purpose: string, text: string) => createHmac('sha256', key).update(`${purpose}\n${text}`).digest('base64url');
  return {
    mac,
    seal: (purpose, text) => `${text}.${mac(purpose, text).slice(0, 22)}`,
    unseal(purpose, sealed) {
      const dot = sealed.lastIndexOf('.');
      if (dot < 0) return undefined;
      const text = sealed.slice(0, dot);
      const expected = Buffer.from(mac(purpose, text).slice(0, 22));
      const presented = Buffer.from(sealed.slice(dot + 1));
      return expected.length === presented.length && timingSafeEqual(expected, presented) ? text : undefined;
    },
  };
}
