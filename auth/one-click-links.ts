import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { describePerson, type Interruption, isOpen } from '../core/interruptions.js';
import { isFinished } from '../core/names.js';
import type { DeploymentView } from '../core/views.js';

/** Who a one-click link is for, for which interruption, until when (docs/notifications.md). */
export interface LinkClaims {
  deploymentId: string;
  interruptionId: string;
  userId: string;
  expiresAt: string;
}

export interface LinkSigner {
  sign(claims: LinkClaims): string;
  /** The claims of a link this Interlock signed, expired or not; undefined for anything else. */
  read(token: string): LinkClaims | undefined;
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
  const read = (token: string): LinkClaims | undefined => {
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
    if (Number.isNaN(Date.parse(expiresAt!))) return undefined;
    return { deploymentId: deploymentId!, interruptionId: interruptionId!, userId: userId!, expiresAt: expiresAt! };
  };
  return {
    sign(claims) {
      const payload = Buffer.from(JSON.stringify([claims.deploymentId, claims.interruptionId, claims.userId, claims.expiresAt])).toString('base64url');
      return `${payload}.${mac(secrets[0]!, payload)}`;
    },
    read,
    verify(token, now = new Date()) {
      const claims = read(token);
      return claims && Date.parse(claims.expiresAt) > now.getTime() ? claims : undefined;
    },
  };
}

/**
 * Why a link to this interruption no longer works, or undefined while it does: a link lives
 * exactly as long as what it asks the person to decide. It ends with the interruption's decision
 * (or its timeout, or a retry that replaced it), at its `timeoutAt` even before the deployment has
 * noticed, and when its deployment has finished some other way (cancelled). Checked each time the
 * link is opened; the token's own expiry is only an upper bound.
 */
export function linkEnded(view: Pick<DeploymentView, 'status'>, interruption: Interruption | undefined, now: Date): string | undefined {
  if (!interruption) return 'The deployment has no such step to decide any more.';
  const step = `“${interruption.step}”`;
  if (!isOpen(interruption)) {
    if (interruption.state === 'TimedOut') return `${step} timed out: nobody decided in time.`;
    const by = interruption.assignee ? ` by ${describePerson(interruption.assignee)}` : '';
    return `${step} has been decided${by} (${interruption.state}).`;
  }
  if (isFinished(view.status)) return `The deployment has ended (${view.status}), so ${step} waits for nobody.`;
  if (interruption.timeoutAt && Date.parse(interruption.timeoutAt) <= now.getTime()) return `${step} timed out: nobody decided in time.`;
  return undefined;
}
