import type { Policy } from '../../config/schema.js';
import { describeWindow } from '../../core/deployment-windows.js';
import type { PolicyView } from '../../core/views.js';

/** A policy gate's parts before it runs: each `Pending`, or `NotRequired` when the policy has none. */
export function initialPolicyView(policy: Policy): PolicyView {
  const timed = policy.window !== undefined || (policy.freezes?.length ?? 0) > 0;
  return {
    checks: { state: policy.checks?.length ? 'Pending' : 'NotRequired' },
    window: { state: timed ? 'Pending' : 'NotRequired', ...(policy.window ? { window: describeWindow(policy.window) } : {}) },
    approvals: { state: policy.approvals ? 'Pending' : 'NotRequired' },
    overrideTeams: policy.override?.teams ?? [],
  };
}
