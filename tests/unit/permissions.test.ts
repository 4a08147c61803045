import { describe, expect, it } from 'vitest';
import { accessInWords, actorOf, type Grant, type Principal } from '../../core/principals.js';
import { ServiceError } from '../../service/errors.js';
import { can, NOTHING, requirePermission, visibilityClause } from '../../service/permissions.js';

// The one answer to "may this principal do this here?" (docs/security.md), as a table.

const person = (grants: Grant[], extra: Partial<Principal> = {}): Principal => ({
  id: 'users-9',
  username: 'pat',
  displayName: 'Pat',
  teams: [],
  grants,
  via: 'token',
  ...extra,
});

const admin = person([{ role: 'admin' }]);
const viewer = person([{ role: 'viewer' }]);
const operator = person([{ role: 'operator' }]);
const qaDeployer = person([{ role: 'deployer', projects: ['alpha'], environments: ['qa'] }]);
const productionViewer = person([{ role: 'viewer', environments: ['production'] }]);
const nobody = person([]);
const readOnlyAdmin = person([{ role: 'admin' }], { readOnly: true });

const ALPHA_QA = { project: 'alpha', environment: 'qa' };
const ALPHA_PRODUCTION = { project: 'alpha', environment: 'production' };
const BETA_PRODUCTION = { project: 'beta', environment: 'production' };

describe('can', () => {
  it.each([
    ['admin', admin, [true, true, true, true, true]],
    ['viewer', viewer, [true, true, false, false, false]],
    ['operator', operator, [true, true, false, true, false]],
    ['qa deployer', qaDeployer, [true, false, true, false, false]],
    ['production viewer', productionViewer, [false, true, false, false, false]],
    ['nobody', nobody, [false, false, false, false, false]],
    ['read-only admin', readOnlyAdmin, [true, true, false, false, false]],
  ] as const)('%s: sees alpha/qa, sees beta/production, triggers on alpha/qa, decodes, reviews overrides', (_, who, expected) => {
    expect([
      can(who, 'see', ALPHA_QA),
      can(who, 'see', BETA_PRODUCTION),
      can(who, 'trigger', ALPHA_QA),
      can(who, 'decode'),
      can(who, 'reviewOverrides'),
    ]).toEqual(expected);
  });

  it('a project or release place (no environment) is seen and cancelled with a grant on any of its environments', () => {
    expect(can(qaDeployer, 'see', { project: 'alpha' })).toBe(true);
    expect(can(qaDeployer, 'cancel', { project: 'alpha' })).toBe(true);
    expect(can(qaDeployer, 'see', { project: 'beta' })).toBe(false);
  });

  it('acting needs only seeing (the step decides the rest), and never a read-only token', () => {
    expect(can(viewer, 'act', ALPHA_PRODUCTION)).toBe(true);
    expect(can(qaDeployer, 'act', ALPHA_PRODUCTION)).toBe(false);
    expect(can(readOnlyAdmin, 'act', ALPHA_QA)).toBe(false);
  });
});

describe('requirePermission', () => {
  const refusal = (run: () => void): ServiceError => {
    try {
      run();
    } catch (error) {
      if (error instanceof ServiceError) return error;
      throw error;
    }
    throw new Error('not refused');
  };

  it('is NOT_FOUND, in the words given, where the principal sees nothing', () => {
    const error = refusal(() => requirePermission(qaDeployer, 'cancel', ALPHA_PRODUCTION, 'this deployment', { hidden: 'No deployment "x".' }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('No deployment "x".');
  });

  it('is NOT_PERMITTED naming the role, project and environment where it sees the project (a trigger elsewhere)', () => {
    const error = refusal(() => requirePermission(qaDeployer, 'trigger', ALPHA_PRODUCTION, 'alpha to production', { seenAt: { project: 'alpha' } }));
    expect(error.code).toBe('NOT_PERMITTED');
    expect(error.extra.missing).toEqual({ role: 'deployer', project: 'alpha', environment: 'production' });
    expect(error.message).toBe('Pat (pat) may not deploy alpha to production: that needs the deployer role on alpha in production. Pat has: deployer on alpha in qa.');
  });

  it('says a read-only token only looks', () => {
    const error = refusal(() => requirePermission(readOnlyAdmin, 'cancel', ALPHA_QA, 'this deployment'));
    expect(error.code).toBe('NOT_PERMITTED');
    expect(error.message).toContain('this token is read-only');
  });

  it('passes what is allowed', () => {
    expect(() => requirePermission(qaDeployer, 'trigger', ALPHA_QA, 'alpha to qa')).not.toThrow();
  });
});

describe('visibilityClause', () => {
  it('is null for whoever sees everything, NOTHING for a principal with no grant', () => {
    expect(visibilityClause(viewer)).toBeNull();
    expect(visibilityClause(admin)).toBeNull();
    expect(visibilityClause(nobody)).toBe(NOTHING);
  });

  it('ORs each grant\'s place; a release\'s clause leaves environments out', () => {
    const both = person([{ role: 'deployer', projects: ['alpha'], environments: ['qa'] }, { role: 'viewer', projects: ['beta', 'gamma'] }]);
    expect(visibilityClause(both)).toBe("((InterlockProject IN ('alpha') AND InterlockEnvironment IN ('qa')) OR InterlockProject IN ('beta', 'gamma'))");
    expect(visibilityClause(both, { environments: false })).toBe("(InterlockProject IN ('alpha') OR InterlockProject IN ('beta', 'gamma'))");
    expect(visibilityClause(productionViewer)).toBe("InterlockEnvironment IN ('production')");
  });

  it('refuses a value that is no id of the config, rather than put it in a query', () => {
    expect(() => visibilityClause(person([{ role: 'viewer', projects: ["x') OR ('1' = '1"] }]))).toThrow(/not an id/);
  });
});

describe('actorOf: the roles a workflow knows someone by, where it runs', () => {
  it('is a deployer only where the grant reaches, an admin everywhere, a viewer elsewhere it sees', () => {
    const mixed = person([{ role: 'viewer' }, { role: 'deployer', projects: ['alpha'], environments: ['qa'] }]);
    expect(actorOf(mixed, ALPHA_QA).roles).toEqual(['deployer']);
    expect(actorOf(mixed, ALPHA_PRODUCTION).roles).toEqual(['viewer']);
    expect(actorOf(admin, ALPHA_PRODUCTION).roles).toEqual(['admin', 'deployer']);
    expect(actorOf(operator, ALPHA_PRODUCTION).roles).toEqual(['viewer']);
    expect(actorOf(qaDeployer, BETA_PRODUCTION).roles).toEqual([]);
  });

  it('says what someone may do in words', () => {
    expect(accessInWords(admin)).toBe('admin');
    expect(accessInWords(person([{ role: 'viewer' }, { role: 'deployer', projects: ['alpha'], environments: ['qa'] }]))).toBe('viewer; deployer on alpha in qa');
    expect(accessInWords(nobody)).toBe('no access');
    expect(accessInWords(readOnlyAdmin)).toBe('admin (read-only: looks only)');
  });
});
