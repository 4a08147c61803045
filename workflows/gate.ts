import { allHandlersFinished, condition, continueAsNew, getExternalWorkflowHandle, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  gateAdmittedSignal,
  gateBlockSignal,
  gateEnterSignal,
  type GateInput,
  gateLeaveSignal,
  gateQueuedSignal,
  gateStateQuery,
  gateUnblockSignal,
} from './messages.js';

const { closedDeployments } = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumInterval: '30s' }, summary: 'which deployments have ended' });

/** How often a gate checks that the deployments it knows still run (an operator may terminate one): soon while some are queued. */
const LIVENESS_QUEUED_MS = 5 * 60_000;
const LIVENESS_MS = 60 * 60_000;

/**
 * The gate of one project and environment (SPEC §9, `blockConcurrentDeployments`): every deployment
 * asks it before its steps start; while one waits at a blocking step it *holds* the gate, and those
 * that ask meanwhile are queued; when the last holder's step is decided (or it ends, however it
 * ends) the queued ones go on, in the order they asked. It lives while any of them runs.
 */
export async function deploymentGate(input: GateInput): Promise<void> {
  const holders = new Set(input.holders ?? []);
  const queue = [...(input.queue ?? [])];
  const running = new Set(input.running ?? []);
  const pending = new Set<Promise<unknown>>();
  const tell = (id: string, send: (handle: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>) => {
    // A deployment that is gone cannot be told; it waits for nothing any more.
    const told: Promise<unknown> = send(getExternalWorkflowHandle(id)).catch(() => release(id)).finally(() => pending.delete(told));
    pending.add(told);
  };
  const admit = (id: string) => {
    running.add(id);
    tell(id, (handle) => handle.signal(gateAdmittedSignal));
  };
  const details = () =>
    setCurrentDetails(holders.size === 0 ? 'Open' : `Held by ${[...holders].join(', ')}; queued: ${queue.length > 0 ? queue.join(', ') : 'none'}`);
  const unblock = (id: string) => {
    holders.delete(id);
    if (holders.size === 0) queue.splice(0).forEach(admit);
    details();
  };
  const release = (id: string) => {
    running.delete(id);
    const at = queue.indexOf(id);
    if (at >= 0) queue.splice(at, 1);
    unblock(id);
  };

  setHandler(gateEnterSignal, ({ deploymentId }) => {
    if (queue.includes(deploymentId) || running.has(deploymentId)) return;
    if (holders.size === 0) admit(deploymentId);
    else {
      queue.push(deploymentId);
      const [behind] = holders;
      tell(deploymentId, (handle) => handle.signal(gateQueuedSignal, { behind: behind! }));
    }
    details();
  });
  setHandler(gateBlockSignal, ({ deploymentId }) => {
    holders.add(deploymentId);
    details();
  });
  setHandler(gateUnblockSignal, ({ deploymentId }) => unblock(deploymentId));
  setHandler(gateLeaveSignal, ({ deploymentId }) => release(deploymentId));
  setHandler(gateStateQuery, () => ({ holders: [...holders], queue: [...queue], running: [...running] }));
  details();

  const idle = () => running.size === 0 && queue.length === 0;
  while (!idle()) {
    const queued = queue.length;
    const checkIn = queued > 0 ? LIVENESS_QUEUED_MS : LIVENESS_MS;
    const changed = await condition(() => idle() || queue.length !== queued || workflowInfo().continueAsNewSuggested, checkIn);
    if (!changed) for (const id of await closedDeployments({ ids: [...new Set([...running, ...holders, ...queue])] })) release(id);
    if (workflowInfo().continueAsNewSuggested && !idle()) {
      await condition(allHandlersFinished);
      await Promise.all(pending);
      return continueAsNew<typeof deploymentGate>({ ...input, holders: [...holders], queue: [...queue], running: [...running] });
    }
  }
  await Promise.all(pending);
}
