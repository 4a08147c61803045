import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLinkSigner, linkEnded } from '../../auth/one-click-links.js';
import type { Interruption } from '../../core/interruptions.js';

const NOW = new Date('2030-01-01T12:00:00.000Z');
const interruption = (overrides: Partial<Interruption> = {}): Interruption => ({
  id: 'intr-1',
  kind: 'Manual',
  step: 'Approve',
  state: 'Pending',
  instructions: '',
  responsibleTeams: ['release-managers'],
  assignee: null,
  notes: null,
  createdAt: '2030-01-01T09:00:00.000Z',
  decidedAt: null,
  timeoutAt: null,
  onTimeout: 'abort',
  ...overrides,
});
const jamie = { id: 'users-237', username: 'jjones', displayName: 'Jamie Jones' };

describe('linkEnded: a link lives as long as what it asks to decide', () => {
  it('works while the interruption is open and its deadline ahead', () => {
    expect(linkEnded({ status: 'Waiting' }, interruption(), NOW)).toBeUndefined();
    expect(linkEnded({ status: 'Waiting' }, interruption({ state: 'Assigned', assignee: jamie, timeoutAt: '2030-01-01T12:00:01.000Z' }), NOW)).toBeUndefined();
  });

  it('ends with a decision, a timeout, or a retry that replaced it', () => {
    expect(linkEnded({ status: 'Running' }, interruption({ state: 'Proceeded', assignee: jamie }), NOW)).toBe('“Approve” has been decided by Jamie Jones (jjones) (Proceeded).');
    expect(linkEnded({ status: 'Aborted' }, interruption({ state: 'Aborted', assignee: jamie }), NOW)).toContain('(Aborted)');
    expect(linkEnded({ status: 'Running' }, interruption({ kind: 'GuidedFailure', state: 'Retried', assignee: jamie }), NOW)).toContain('(Retried)');
    expect(linkEnded({ status: 'Aborted' }, interruption({ state: 'TimedOut' }), NOW)).toBe('“Approve” timed out: nobody decided in time.');
  });

  it('ends at its timeoutAt even before the deployment has noticed, and with a deployment that ended otherwise', () => {
    expect(linkEnded({ status: 'Waiting' }, interruption({ timeoutAt: NOW.toISOString() }), NOW)).toBe('“Approve” timed out: nobody decided in time.');
    expect(linkEnded({ status: 'Cancelled' }, interruption({ state: 'Assigned', assignee: jamie }), NOW)).toBe('The deployment has ended (Cancelled), so “Approve” waits for nobody.');
  });

  it('names no step it cannot find (a link to an interruption the deployment never had)', () => {
    expect(linkEnded({ status: 'Waiting' }, undefined, NOW)).toBe('The deployment has no such step to decide any more.');
  });
});

describe('the link signer', () => {
  const key = { key: randomBytes(32) };
  const signer = createLinkSigner([key]);
  const claims = { deploymentId: 'd:e:1:x', interruptionId: 'intr-1', userId: 'users-237', expiresAt: '2030-01-02T00:00:00.000Z' };

  it('reads its own links, expired or not; verify also wants them unexpired', () => {
    const token = signer.sign(claims);
    expect(signer.read(token)).toEqual(claims);
    expect(signer.verify(token, NOW)).toEqual(claims);
    expect(signer.verify(token, new Date('2030-01-02T00:00:00.000Z'))).toBeUndefined();
    expect(signer.read(token)).toEqual(claims);
  });

  it('reads nothing else: another key, an altered payload or signature, garbage, inherited names', () => {
    const token = signer.sign(claims);
    const [payload, signature] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify(['d:e:1:x', 'intr-1', 'users-1', '2099-01-01T00:00:00.000Z'])).toString('base64url');
    for (const other of [
      createLinkSigner([{ key: randomBytes(32) }]).sign(claims),
      `${forged}.${signature}`,
      // The signature's last character changed (to one whose bits differ: 1 in 16 signatures already end in A).
      `${payload}.${signature.slice(0, -1)}${signature.endsWith('A') ? 'Q' : 'A'}`,
      `${payload}.${signature}.x`,
      payload,
      '',
      'constructor',
      '__proto__.toString',
    ]) {
      expect(signer.read(other), other).toBeUndefined();
    }
    // A rotated-out key still reads the links it signed.
    expect(createLinkSigner([{ key: randomBytes(32) }, key]).read(token)).toEqual(claims);
  });
});
