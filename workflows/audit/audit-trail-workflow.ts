import { allHandlersFinished, condition, continueAsNew, log, setHandler, workflowInfo } from '@temporalio/workflow';
import { type AuditDelivery, auditEventsSignal, type AuditTrailInput } from '../messages.js';
import { deliver, failureMessage } from '../outbox.js';

/** Quiet this long, with nothing left to send, and it ends; the next record starts it again. */
const IDLE = '1h';
/** Records delivered before it continues as new, so its history stays short. */
const RECORDS_PER_RUN = 500;

/**
 * The audit trail's deliveries (docs/security.md): the API hands over the audit records some channel
 * subscribes to, in batches, and this workflow sends each to its channels, durably (retried as every
 * notification is). A delivery that fails in the end is logged; the record is in the API's log either way.
 */
export async function auditTrail(input: AuditTrailInput): Promise<void> {
  const queue: AuditDelivery[] = [...(input.pending ?? [])];
  const deliveries = new Set<Promise<void>>();
  setHandler(auditEventsSignal, (batch) => {
    queue.push(...batch);
  });
  let sent = 0;
  for (;;) {
    if (!(await condition(() => queue.length > 0, IDLE)) && deliveries.size === 0) break;
    while (queue.length > 0 && sent < RECORDS_PER_RUN) {
      const { event, channels } = queue.shift()!;
      sent++;
      for (const channel of channels) {
        const delivery: Promise<void> = deliver(channel, event).then(
          () => undefined,
          (error: unknown) => log.warn(`${channel}: ${event.type} could not be delivered (${failureMessage(error)})`),
        ).finally(() => deliveries.delete(delivery));
        deliveries.add(delivery);
      }
    }
    if (sent >= RECORDS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await Promise.all(deliveries);
      await condition(allHandlersFinished);
      await continueAsNew<typeof auditTrail>({ pending: queue });
    }
  }
  await Promise.all(deliveries);
  await condition(allHandlersFinished);
}
