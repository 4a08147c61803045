import { describe, expect, it } from 'vitest';
import { DecisionSchema } from '../../api/schemas.js';
import { CliError } from '../../cli/client.js';
import { notesOf } from '../../cli/command.js';
import type { Principal } from '../../core/principals.js';
import { MAX_NOTES, notesProblem } from '../../core/interruptions.js';
import type { Deployments } from '../../service/deployments.js';
import { ServiceError } from '../../service/errors.js';
import { KeptnEvents } from '../../service/keptn-events.js';
import type { Releases } from '../../service/releases.js';

/** One rule for a decision's notes (docs/manual-steps.md#notes), asked by every front end: optional, at most 4,000 characters, refused in one set of words. */
const TOO_LONG = 'n'.repeat(MAX_NOTES + 1);
const WORDS = 'Notes may be at most 4000 characters; these are 4001.';

describe('the notes rule, as each front end asks it', () => {
  it('is the core rule\'s words', () => {
    expect(notesProblem(TOO_LONG)).toBe(WORDS);
  });

  it('the API\'s body schema: optional, and over the limit refused in the same words', () => {
    expect(DecisionSchema.safeParse({}).success).toBe(true);
    expect(DecisionSchema.safeParse({ notes: 'n'.repeat(MAX_NOTES) }).success).toBe(true);
    const refused = DecisionSchema.safeParse({ notes: TOO_LONG });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues).toMatchObject([{ path: ['notes'], message: WORDS }]);
  });

  it('the CLI: --notes optional, a longer one a usage error in the same words before anything is sent', () => {
    expect(notesOf({})).toBeUndefined();
    expect(notesOf({ notes: 'Desk informed' })).toBe('Desk informed');
    expect(() => notesOf({ notes: TOO_LONG })).toThrow(new CliError(WORDS, 2));
  });

  describe('the Keptn event API: approval.finished\'s data.message', () => {
    const user: Principal = { id: 'users-237', username: 'jjones', displayName: 'Jamie Jones', teams: [], grants: [{ role: 'deployer' }], via: 'token' };
    /** The services behind it, recording what the event asked of them. */
    function keptn() {
      const acted: unknown[] = [];
      const releases = { visibleId: async (_: Principal, id: string) => id, eventsOf: async () => ({ id: 'r', events: [], deployments: { 'trig-1': 'hello:production:1.0.0:abc' } }) } as unknown as Releases;
      const deployments = { act: async (...args: unknown[]) => void acted.push(args[3]) } as unknown as Deployments;
      return { acted, events: new KeptnEvents(releases, deployments) };
    }
    const approval = (message: unknown) => ({
      type: 'sh.keptn.event.approval.finished',
      shkeptncontext: 'ctx-1',
      triggeredid: 'trig-1',
      data: { result: 'pass', status: 'succeeded', message },
    });

    it('becomes the decision\'s notes whole, and is optional', async () => {
      for (const message of ['n'.repeat(MAX_NOTES), undefined]) {
        const { acted, events } = keptn();
        await events.receive(user, approval(message));
        expect(acted).toEqual([{ type: 'takeResponsibility' }, { type: 'proceed', notes: message }]);
      }
    });

    it('over the limit is 400 naming body.data.message, not cut, and nothing is done', async () => {
      const { acted, events } = keptn();
      const refused = await events.receive(user, approval(TOO_LONG)).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ServiceError);
      expect(refused).toMatchObject({ code: 'INVALID', extra: { fields: [{ name: 'body.data.message', reason: WORDS }] } });
      expect(acted).toEqual([]);
    });
  });
});
