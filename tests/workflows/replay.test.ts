import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ReplayResult, Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { HISTORIES_DIR, readHistory } from '../../scripts/record-histories.js';
import { codecKey, dataConverterWith } from '../../temporal/payload-codec.js';

// Every recorded history must replay against today's workflow code: a change that would break
// deployments running now (a new command, a reordered timer) fails here. Record new shapes with
// `npx tsx scripts/record-histories.ts`; keep old files as long as such deployments may be running.
const files = readdirSync(HISTORIES_DIR).filter((file) => file.endsWith('.json')).sort();
const results = new Map<string, ReplayResult>();

beforeAll(async () => {
  const histories = files.map((file) => ({ workflowId: file, history: readHistory(join(HISTORIES_DIR, file)) }));
  // One replay worker for all of them: each history replays on its own, and reports its own error.
  // With the payload codec, as a worker runs: histories recorded before it (unencrypted) still read.
  const dataConverter = dataConverterWith([codecKey(randomBytes(32).toString('base64'))]);
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter }, histories)) {
    results.set(result.workflowId, result);
  }
});

describe('recorded deployment histories', () => {
  it('include the manual step paths that running deployments take', () => {
    expect(files).toEqual(expect.arrayContaining(['deployment-proceed.json', 'deployment-abort.json', 'deployment-timeout.json']));
  });

  it('include the shapes of guided failure, reminders and escalation, a blocking step with its gate, a lifecycle release with its stages, and an external task answered by its executor', () => {
    expect(files).toEqual(expect.arrayContaining([
      'deployment-abort-failure-steps.json',
      'deployment-guided-retry.json',
      'deployment-remind-escalate.json',
      'deployment-blocking.json',
      'deployment-blocking-gate.json',
      'deployment-blocking-queue.json',
      'deployment-blocking-queue-third.json',
      'deployment-blocking-queue-gate.json',
      'release-approved.json',
      'release-approved-qa.json',
      'release-approved-production.json',
      'release-external-qa.json',
    ]));
  });

  it('include a manual step with two rules met in order, and one that asks for inputs (patch approval-rules)', () => {
    expect(files).toEqual(expect.arrayContaining(['deployment-approval-rules.json', 'deployment-approver-inputs.json']));
  });

  it('include a policy gate that waits out a freeze and then its approval rules, and one passed by break-glass (patch environment-policies)', () => {
    expect(files).toEqual(expect.arrayContaining(['deployment-policy-freeze-approvals.json', 'deployment-policy-override.json']));
  });

  it.each(files)('%s replays without a determinism error', (file) => {
    const result = results.get(file);
    expect(result, `no replay result for ${file}`).toBeDefined();
    expect(result!.error).toBeUndefined();
  });
});
