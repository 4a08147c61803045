import { describe, expect, inject, it } from 'vitest';
import { runChaos } from '../../scripts/chaos.js';

// `npm run chaos` at a small size (docs/manual-steps.md): the worker killed with SIGKILL three times while
// deployments run their scripts; a stand-in for the people on call answers every interruption.
describe('chaos: the worker killed three times while deployments run', () => {
  it('loses none, fails none without offering a choice, runs no script twice without a retry, leaves no script behind', async () => {
    const report = await runChaos({ address: inject('temporalAddress'), deployments: 6, kills: 3, pauseMs: 2_000, timeoutMs: 150_000, log: () => undefined });
    expect(report.lost).toEqual([]);
    expect(report.failedWithoutChoice).toEqual([]);
    expect(report.unexplainedReruns).toEqual([]);
    expect(report.orphans).toEqual([]);
    // Each ended as the people on call chose: they proceed and retry, so every one succeeds.
    expect(report.statuses).toEqual({ Succeeded: 6 });
    // Each kill waits for a script while deployments are unfinished, so the first one lands
    // mid-script; every script a kill stopped was reported to a person, in words, as a lost worker.
    expect(report.killsMidScript).toBeGreaterThan(0);
    expect(report.lostWorkerReports).toBeGreaterThanOrEqual(report.killsMidScript);
  }, 240_000);
});
