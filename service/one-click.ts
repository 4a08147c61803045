import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** Who a one-click link is for, for which interruption, until when (SPEC §10). */
export interface LinkClaims {
  deploymentId: string;
  interruptionId: string;
  userId: string;
  expiresAt: string;
}

export interface LinkSigner {
  sign(claims: LinkClaims): string;
  /** The claims of a link this Interlock signed and that has not expired; undefined otherwise. */
  verify(token: string, now?: Date): LinkClaims | undefined;
}

/**
 * Signs and checks the one-click links of notifications (`/i/<token>`). The key is derived from the
 * payload codec's keys, which every worker (that signs, in an email) and every API process (that
 * checks, when the link is opened) already share: no new secret to hand out. The first key signs,
 * every key verifies, so links survive a key rotation. A link names its person, interruption and
 * expiry; it opens a confirmation page and never decides anything by itself.
 */
export function createLinkSigner(codecKeys: { key: Buffer }[]): LinkSigner {
  const secrets = codecKeys.map(({ key }) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'interlock one-click decision links', 32)));
  const mac = (secret: Buffer, payload: string) => createHmac('sha256', secret).update(payload).digest('base64url');
  return {
    sign(claims) {
      const payload = Buffer.from(JSON.stringify([claims.deploymentId, claims.interruptionId, claims.userId, claims.expiresAt])).toString('base64url');
      return `${payload}.${mac(secrets[0]!, payload)}`;
    },
    verify(token, now = new Date()) {
      const [payload, signature, extra] = token.split('.');
      if (!payload || !signature || extra !== undefined) return undefined;
      const presented = Buffer.from(signature);
      const valid = secrets.some((secret) => {
        const expected = Buffer.from(mac(secret, payload));
        return expected.length === presented.length && timingSafeEqual(expected, presented);
      });
      if (!valid) return undefined;
      let fields: unknown;
      try {
        fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        return undefined;
      }
      if (!Array.isArray(fields) || fields.length !== 4 || !fields.every((field) => typeof field === 'string')) return undefined;
      const [deploymentId, interruptionId, userId, expiresAt] = fields as string[];
      if (!(Date.parse(expiresAt!) > now.getTime())) return undefined;
      return { deploymentId: deploymentId!, interruptionId: interruptionId!, userId: userId!, expiresAt: expiresAt! };
    },
  };
}
