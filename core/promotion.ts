/**
 * How a lifecycle release moves on (Keptn's shipyard-controller): a task's result from how its
 * step ended, and which sequences a finished sequence triggers. Pure.
 */
import type { TaskResult } from './names.js';
import type { StepView } from './views.js';

/** What promotion reads of a shipyard: its stages' sequences and what triggers each. */
export interface PromotionSpec {
  spec: {
    stages: {
      name: string;
      sequences: { name: string; triggeredOn?: { event: string; selector?: { match: Record<string, string> } | undefined }[] | undefined }[];
    }[];
  };
}

/** A lifecycle step's result from how it ended, when it did not report one itself. */
export function resultOf(view: StepView): TaskResult | undefined {
  if (view.result) return view.result;
  if (view.status === 'Succeeded') return 'pass';
  if (view.status === 'Failed' && view.ignored) return 'warning';
  if (view.status === 'Failed' || view.status === 'Aborted') return 'fail';
  return undefined;
}

/** The sequences that start when `<stage>.<sequence>` finishes with `result` (Keptn's GetTaskSequencesByTrigger). */
export function sequencesTriggeredBy(
  shipyard: PromotionSpec,
  finished: { stage: string; sequence: string; result: TaskResult; lastTask?: string | undefined },
): { stage: string; sequence: string }[] {
  const event = `${finished.stage}.${finished.sequence}.finished`;
  return shipyard.spec.stages.flatMap((stage) =>
    stage.sequences
      .filter((sequence) =>
        (sequence.triggeredOn ?? []).some((trigger) => {
          if (trigger.event !== event) return false;
          // Without a selector, pass and warning promote; with one, its `result` (or `<last task>.result`) must match.
          if (!trigger.selector) return finished.result === 'pass' || finished.result === 'warning';
          const { match } = trigger.selector;
          return match.result === finished.result || (finished.lastTask !== undefined && match[`${finished.lastTask}.result`] === finished.result);
        }),
      )
      .map((sequence) => ({ stage: stage.name, sequence: sequence.name })),
  );
}
