import { describe, expect, it } from 'vitest';
import { policiesFor, policyApplies, policyStepNames } from '../../core/policy-matching.js';

describe('which policies apply', () => {
  const everyProduction = { environments: ['production'], id: 'all' };
  const paymentsProduction = { environments: ['production', 'dr'], projects: ['payments'], id: 'payments' };
  const staging = { environments: ['staging'], id: 'staging' };

  it('a policy applies to its environments, in every project unless it names projects', () => {
    expect(policyApplies(everyProduction, 'hello', 'production')).toBe(true);
    expect(policyApplies(everyProduction, 'hello', 'qa')).toBe(false);
    expect(policyApplies(paymentsProduction, 'payments', 'dr')).toBe(true);
    expect(policyApplies(paymentsProduction, 'hello', 'production')).toBe(false);
  });

  it('lists the ones that apply in the config order', () => {
    const policies = [paymentsProduction, staging, everyProduction];
    expect(policiesFor(policies, 'payments', 'production').map((policy) => policy.id)).toEqual(['payments', 'all']);
    expect(policiesFor(policies, 'hello', 'production').map((policy) => policy.id)).toEqual(['all']);
    expect(policiesFor(policies, 'hello', 'qa')).toEqual([]);
  });
});

describe('policy gate names', () => {
  it('names each gate after its environments, numbering repeats and steering clear of the process', () => {
    expect(policyStepNames([{ environments: ['production'] }], ['Deploy'])).toEqual(['Policy: production']);
    expect(policyStepNames([{ environments: ['production', 'dr'] }, { environments: ['production', 'dr'] }], [])).toEqual([
      'Policy: production, dr',
      'Policy: production, dr (2)',
    ]);
    expect(policyStepNames([{ environments: ['production'] }], ['Policy: production'])).toEqual(['Policy: production (2)']);
    expect(policyStepNames([{ environments: ['production'], name: 'Change board' }], [])).toEqual(['Policy: Change board']);
  });
});
