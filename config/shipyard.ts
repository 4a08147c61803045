import { z } from 'zod';

/**
 * Keptn's shipyard (spec.keptn.sh/0.2.x), accepted as Keptn writes it: stages in order, each with
 * sequences of tasks, a sequence started by another's `finished` event (`triggeredOn`). Fields
 * Keptn knows and Interlock does not use (`metadata`, `triggeredAfter`) are kept; unknown ones are
 * refused, as everywhere in the config, so a typo never goes unseen (docs/keptn.md).
 */

// Keptn's entity names: a lower-case letter, then lower-case letters, digits and dashes
// (shipyard-controller's ValidateShipyardStages); Interlock ids allow at most 63 characters.
const KeptnName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a lower-case letter, then lower-case letters, digits and dashes (Keptn\'s rule)');

export const TriggerSchema = z.strictObject({
  /** `<stage>.<sequence>.finished` */
  event: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.finished$/, 'an event like "qa.delivery.finished"'),
  /** Keptn's selector: `match: { result: pass }` or `match: { <task>.result: warning }`. */
  selector: z.strictObject({ match: z.record(z.string(), z.enum(['pass', 'warning', 'fail'])) }).optional(),
});

export const ShipyardTaskSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a lower-case letter, then lower-case letters, digits and dashes'),
  /** Given to the task: the approval's `pass`/`warning`, an external task's own settings. */
  properties: z.record(z.string(), z.unknown()).optional(),
  /** Keptn: wait this long before the task starts (a Go duration such as `10m`). */
  triggeredAfter: z.string().regex(/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/, 'a duration like 10m or 1h30m').optional(),
});

export const SequenceSchema = z.strictObject({
  name: KeptnName,
  triggeredOn: z.array(TriggerSchema).optional(),
  tasks: z.array(ShipyardTaskSchema).min(1, 'a sequence needs at least one task'),
});

export const StageSchema = z.strictObject({
  name: KeptnName,
  sequences: z.array(SequenceSchema).default([]),
});

export const ShipyardSchema = z.strictObject({
  apiVersion: z.string().regex(/^spec\.keptn\.sh\/0\.2\.\d+$/, 'Interlock reads shipyards of spec.keptn.sh/0.2.x'),
  kind: z.literal('Shipyard'),
  metadata: z.looseObject({ name: z.string().optional() }).optional(),
  spec: z.strictObject({ stages: z.array(StageSchema).min(1, 'a shipyard needs at least one stage') }),
});

export type Shipyard = z.infer<typeof ShipyardSchema>;
export type ShipyardSequence = z.infer<typeof SequenceSchema>;
export type ShipyardTask = z.infer<typeof ShipyardTaskSchema>;

/**
 * What a shipyard refers to and must exist: each `triggeredOn` names a stage and a sequence of this
 * shipyard; stage names and sequence names within a stage are unique. Paths are relative to the
 * shipyard (`spec.stages[1].sequences[0].triggeredOn[0].event`).
 */
export function shipyardProblems(shipyard: Shipyard): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const sequences = new Set(shipyard.spec.stages.flatMap((stage) => stage.sequences.map((sequence) => `${stage.name}.${sequence.name}`)));
  const stages = new Set<string>();
  shipyard.spec.stages.forEach((stage, s) => {
    if (stages.has(stage.name)) problems.push({ path: ['spec', 'stages', s, 'name'], message: `duplicate stage "${stage.name}"` });
    stages.add(stage.name);
    const names = new Set<string>();
    stage.sequences.forEach((sequence, q) => {
      if (names.has(sequence.name)) problems.push({ path: ['spec', 'stages', s, 'sequences', q, 'name'], message: `duplicate sequence "${sequence.name}" in stage "${stage.name}"` });
      names.add(sequence.name);
      (sequence.triggeredOn ?? []).forEach((trigger, t) => {
        const named = trigger.event.replace(/\.finished$/, '');
        if (!sequences.has(named)) {
          problems.push({ path: ['spec', 'stages', s, 'sequences', q, 'triggeredOn', t, 'event'], message: `no sequence "${named}" (this shipyard has ${[...sequences].join(', ')})` });
        } else if (named === `${stage.name}.${sequence.name}`) {
          problems.push({ path: ['spec', 'stages', s, 'sequences', q, 'triggeredOn', t, 'event'], message: 'a sequence cannot be triggered by its own end' });
        }
      });
    });
  });
  return problems;
}
