import { allHandlersFinished, condition, continueAsNew, getExternalWorkflowHandle, patched, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activity-contract.js';
import {
  gateAdmittedSignal,
  gateBlockSignal,
  gateEnterSignal,
  type GateInput,
  gateLeaveSignal,
  gateQueuedSignal,
  gateStateQuery,
  gateUnblockSignal,
} from '../messages.js';

const { closedDeployments } = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumInterval: '30s' }, summary: 'which deployments have ended' });

/** How often a gate checks that the deployments it knows still run (an operator may terminate one): soon while some are queued. */
const LIVENESS_QUEUED_MS = 5 * 60_000;
const LIVENESS_MS = 60 * 60_000;

/** Gates that admitted their whole queue at once when a blocking step was decided keep doing so in the runs they replay. */
const ONE_AT_A_TIME = 'gate-one-at-a-time';

/**
 * The gate of one project and environment (docs/manual-steps.md, `blockConcurrentDeployments`): every deployment
 * asks it before its steps start; while one waits at a blocking step it *holds* the gate, and those
 * that ask meanwhile are queued, earliest triggered first. When the last holder's step is decided
 * (or it ends, however it ends) the gate admits the first of the queue only: that one is *passing*,
 * and the rest (and any newcomer) wait until it has passed its own blocking step or ended — it may
 * never reach one (a step for some environments only, a failure before it): then its end lets the
 * next go. So the queue goes through the blocking step one at a time, in the order the deployments
 * were triggered. It lives while any of them runs.
 */
export async function deploymentGate(input: GateInput): Promise<void> {
  const holders = new Set(input.holders ?? []);
  const queue = [...(input.queue ?? [])];
  const running = new Set(input.running ?? []);
  let passing: string | null = input.passing ?? null;
  const triggeredAt = new Map(Object.entries(input.triggeredAt ?? {}));
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
  /** Whom a queued deployment waits for: the one at the blocking step, else the one admitted before it. */
  const ahead = () => [...holders][0] ?? passing;
  const details = () => {
    const queued = `queued: ${queue.length > 0 ? queue.join(', ') : 'none'}`;
    if (holders.size > 0) setCurrentDetails(`Held by ${[...holders].join(', ')}; ${queued}`);
    else if (passing !== null) setCurrentDetails(`Letting ${passing} through its blocking step; ${queued}`);
    else setCurrentDetails('Open');
  };
  /** The first of the queue goes, once nobody holds the gate and the one before it has passed. */
  const admitNext = () => {
    if (holders.size > 0 || passing !== null) return;
    const next = queue.shift();
    if (next === undefined) return;
    triggeredAt.delete(next);
    passing = next;
    admit(next);
    // The rest now wait for it.
    for (const id of queue) tell(id, (handle) => handle.signal(gateQueuedSignal, { behind: next }));
  };
  const unblock = (id: string) => {
    holders.delete(id);
    if (passing === id) passing = null;
    if (holders.size === 0 && passing === null && queue.length > 0) {
      if (patched(ONE_AT_A_TIME)) admitNext();
      else {
        queue.splice(0).forEach(admit);
        triggeredAt.clear();
      }
    }
    details();
  };
  const release = (id: string) => {
    running.delete(id);
    const at = queue.indexOf(id);
    if (at >= 0) queue.splice(at, 1);
    triggeredAt.delete(id);
    unblock(id);
  };

  setHandler(gateEnterSignal, ({ deploymentId, triggeredAt: at }) => {
    if (queue.includes(deploymentId) || running.has(deploymentId)) return;
    // Behind a holder, or behind a queue that is still going through: in the order they were
    // triggered (ahead of those triggered later that asked first; requests that say no time go last).
    if (holders.size === 0 && passing === null && queue.length === 0) admit(deploymentId);
    else {
      const later = at === undefined ? -1 : queue.findIndex((other) => (triggeredAt.get(other) ?? '') > at);
      if (at !== undefined) triggeredAt.set(deploymentId, at);
      if (later < 0) queue.push(deploymentId);
      else queue.splice(later, 0, deploymentId);
      const behind = ahead() ?? queue[0]!;
      tell(deploymentId, (handle) => handle.signal(gateQueuedSignal, { behind }));
    }
    details();
  });
  setHandler(gateBlockSignal, ({ deploymentId }) => {
    holders.add(deploymentId);
    details();
  });
  setHandler(gateUnblockSignal, ({ deploymentId }) => unblock(deploymentId));
  setHandler(gateLeaveSignal, ({ deploymentId }) => release(deploymentId));
  setHandler(gateStateQuery, () => ({ holders: [...holders], queue: [...queue], running: [...running], passing }));
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
      return continueAsNew<typeof deploymentGate>({
        ...input,
        holders: [...holders],
        queue: [...queue],
        running: [...running],
        ...(passing !== null ? { passing } : {}),
        ...(triggeredAt.size > 0 ? { triggeredAt: Object.fromEntries(triggeredAt) } : {}),
      });
    }
  }
  await Promise.all(pending);
}
