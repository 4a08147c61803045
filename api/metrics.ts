import { prometheus } from '@hono/prometheus';
import { Counter, Gauge, Registry } from 'prom-client';
import { searchAttributes, WORKFLOW_TYPE } from '../workflows/messages.js';
import { DEPLOYMENT_STATUSES as STATUSES } from '../core/names.js';
import type { Client } from '@temporalio/client';

/**
 * `/metrics` in Prometheus format: requests by route and status with latencies (@hono/prometheus),
 * deployments started by this API, and, read from Temporal visibility at scrape time, deployments
 * by status and the open interruptions.
 */
export function createMetrics(deps: { temporal: { client: Client; taskQueue: string } }) {
  const registry = new Registry();
  const { printMetrics, registerMetrics } = prometheus({ registry, collectDefaultMetrics: false });
  const { client, taskQueue } = deps.temporal;
  const count = async (clause: string) => {
    const query = [`WorkflowType = '${WORKFLOW_TYPE}'`, `TaskQueue = '${taskQueue.replaceAll("'", '')}'`, clause].join(' AND ');
    const { count } = await client.workflowService.countWorkflowExecutions({ namespace: client.options.namespace, query });
    return Number(count ?? 0);
  };

  const started = new Counter({
    name: 'interlock_deployments_started_total',
    help: 'Deployments started through this API process',
    labelNames: ['project', 'environment'],
    registers: [registry],
  });
  new Gauge({
    name: 'interlock_deployments',
    help: 'Deployments by status, from Temporal visibility (finished ones included)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const counts = await Promise.all(STATUSES.map((status) => count(`${searchAttributes.status.name} = '${status}'`)));
      STATUSES.forEach((status, i) => this.set({ status }, counts[i]!));
    },
  });
  new Gauge({
    name: 'interlock_open_interruptions',
    help: 'Deployments waiting at a manual step',
    registers: [registry],
    async collect() {
      this.set(await count(`${searchAttributes.status.name} = 'Waiting' AND ExecutionStatus = 'Running'`));
    },
  });
  return { printMetrics, registerMetrics, started };
}

export type Metrics = ReturnType<typeof createMetrics>;
