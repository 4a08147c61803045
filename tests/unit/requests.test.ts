import { describe, expect, it } from 'vitest';
import { CancelRequestSchema, DecisionRequestSchema, TakeResponsibilityRequestSchema } from '../../workflows/signal-payloads.js';

const jamie = { id: 'users-237', username: 'jjones', displayName: 'Jamie Jones' };

describe('the checks of signal and update payloads', () => {
  it('accepts a full request, fills teams and roles, and drops what it does not know', () => {
    const parsed = TakeResponsibilityRequestSchema.safeParse({ user: jamie, takeOver: true, interruptionId: 'i1', extra: 'ignored' });
    expect(parsed).toEqual({ success: true, data: { user: { ...jamie, teams: [], roles: [] }, takeOver: true, interruptionId: 'i1' } });
    expect(DecisionRequestSchema.parse({ user: { ...jamie, teams: ['release-managers'], roles: ['deployer'] }, notes: 'ok', expiresAt: '2026-01-01T00:00:00.000Z' }))
      .toMatchObject({ notes: 'ok', user: { teams: ['release-managers'], roles: ['deployer'] } });
  });

  it.each([
    ['nothing at all', undefined, 'payload: expected an object'],
    ['no user', {}, 'user: required'],
    ['a user without a username', { user: { id: 'x', displayName: 'X' } }, 'user.username: required'],
    ['a number for a username', { user: { ...jamie, username: 42 } }, 'user.username: expected a string'],
    ['an empty id', { user: { ...jamie, id: '' } }, 'user.id: expected at least 1 character'],
    ['a role that does not exist', { user: { ...jamie, roles: ['root'] } }, 'user.roles.0: expected one of viewer, deployer, admin'],
    ['teams that are not a list', { user: { ...jamie, teams: 'release-managers' } }, 'user.teams: expected an array'],
    ['takeOver as a string', { user: jamie, takeOver: 'yes' }, 'takeOver: expected a boolean'],
    ['a deadline that is no date', { user: jamie, expiresAt: 'tomorrow' }, 'expiresAt: expected an ISO date-time'],
  ])('refuses %s, saying where', (_, payload, message) => {
    const parsed = TakeResponsibilityRequestSchema.safeParse(payload);
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(parsed.error.message).toContain(message);
  });

  it('refuses notes over 4,000 characters and a cancelRequest without a user', () => {
    expect(DecisionRequestSchema.safeParse({ user: jamie, notes: 'x'.repeat(4001) }).success).toBe(false);
    expect(DecisionRequestSchema.safeParse({ user: jamie, notes: 'x'.repeat(4000) }).success).toBe(true);
    expect(CancelRequestSchema.safeParse(undefined).success).toBe(false);
    expect(CancelRequestSchema.safeParse({ user: { username: 42 } }).success).toBe(false);
    expect(CancelRequestSchema.parse({ user: jamie })).toEqual({ user: jamie });
    expect(() => CancelRequestSchema.parse({})).toThrow('user: required');
  });
});
