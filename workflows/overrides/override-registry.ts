import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import { type OverrideRecord, reviewOverride } from '../../core/break-glass.js';
import {
  type OverrideRegistryErrorType,
  type OverridesInput,
  overridesQuery,
  recordOverrideSignal,
  reviewOverrideUpdate,
} from '../messages.js';

/** History events before the list continues as new (Temporal may suggest it sooner). */
const HISTORY_LIMIT = 5_000;
/** Reviewed overrides kept, newest first, when the list continues as new; those not yet reviewed are all kept. */
const REVIEWED_KEPT = 1_000;

/**
 * The list of break-glass overrides to review (docs/change-control.md), one per Interlock: every
 * override a deployment applied, told by its activity, kept until an admin marks it reviewed (who,
 * when, notes) and for a while after. It never ends; it continues as new as its history grows.
 */
export async function overrideRegistry(input: OverridesInput): Promise<void> {
  // Oldest first; pages read it newest first.
  const overrides: OverrideRecord[] = [...(input.overrides ?? [])];
  const details = () => {
    const open = overrides.filter((record) => !record.reviewed).length;
    setCurrentDetails(`${open} override${open === 1 ? '' : 's'} to review; ${overrides.length - open} reviewed`);
  };

  setHandler(recordOverrideSignal, (record) => {
    if (overrides.some((known) => known.id === record.id)) return;
    overrides.push({ ...record, reviewed: null });
    details();
  });
  setHandler(reviewOverrideUpdate, ({ id, user, notes }) => {
    const at = overrides.findIndex((record) => record.id === id);
    const refuse = (type: OverrideRegistryErrorType, message: string): never => {
      throw ApplicationFailure.create({ type, message, nonRetryable: true });
    };
    if (at < 0) return refuse('OVERRIDE_NOT_FOUND', `No override "${id}". GET /api/overrides lists them.`);
    const outcome = reviewOverride(overrides[at]!, user, notes ?? null, new Date().toISOString());
    if (!outcome.ok) return refuse(outcome.refusal, outcome.detail);
    overrides[at] = outcome.record;
    details();
    return outcome.record;
  });
  setHandler(overridesQuery, ({ reviewed, after, pageSize }) => {
    const newestFirst = overrides.filter((record) => reviewed === undefined || (record.reviewed !== null) === reviewed).reverse();
    const from = after === undefined ? 0 : newestFirst.findIndex((record) => record.id === after) + 1;
    const page = newestFirst.slice(from, from + pageSize);
    const more = from + pageSize < newestFirst.length;
    return { overrides: page, nextPageToken: more && page.length > 0 ? page[page.length - 1]!.id : null };
  });
  details();

  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT);
  await condition(allHandlersFinished);
  const reviewed = overrides.filter((record) => record.reviewed !== null);
  const dropped = new Set(reviewed.slice(0, Math.max(0, reviewed.length - REVIEWED_KEPT)).map((record) => record.id));
  return continueAsNew<typeof overrideRegistry>({ ...input, overrides: overrides.filter((record) => !dropped.has(record.id)) });
}
