import { z } from 'zod';
import { parseDuration } from '../core/durations.js';
import type { Project } from './schema.js';
import { ApprovalStepSchema, EvaluationStepSchema, type ProcessStep } from './step-schema.js';
import type { ShipyardSequence } from './shipyard.js';

/**
 * A lifecycle project's sequences as Interlock runs them (docs/keptn.md): each task of a sequence becomes
 * one step of the sequence's deployment, named as the task. `approval` and `evaluation` are built in
 * (their `properties` are the step's options), a task of the project's `tasks:` runs that step,
 * and any other task is an external one, done by whoever answers its CloudEvent: the executors
 * its `tasks:` entry (`type: external`) names, or admins when it has none.
 */

export const BUILT_IN_TASKS = ['approval', 'evaluation'] as const;

/** Default wait for an external task's `.finished` event. */
export const EXTERNAL_TASK_TIMEOUT_MS = 24 * 3_600_000;

// The approval's and evaluation's properties are the options of the steps they become.
const ApprovalProperties = ApprovalStepSchema.omit({ name: true, type: true, environments: true, runCondition: true });
const EvaluationProperties = EvaluationStepSchema.omit({ name: true, type: true, environments: true, runCondition: true });
const ExternalTimeout = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, 'a duration like 30m or 24h')
  .optional();

export interface TaskProblem {
  /** Relative to the task (`properties.pass`). */
  path: (string | number)[];
  message: string;
}

type Built = { ok: true; steps: ProcessStep[] } | { ok: false; problems: { task: number; problem: TaskProblem }[] };

/** The steps of one sequence, or every problem with its tasks (checked when the config loads, so a trigger never meets one). */
export function sequenceSteps(project: Pick<Project, 'tasks'>, sequence: Pick<ShipyardSequence, 'tasks'>): Built {
  const problems: { task: number; problem: TaskProblem }[] = [];
  const seen = new Set<string>();
  const steps = sequence.tasks.map((task, t): ProcessStep | undefined => {
    if (seen.has(task.name)) problems.push({ task: t, problem: { path: ['name'], message: `"${task.name}" is already a task of this sequence; a sequence runs each task once` } });
    seen.add(task.name);
    const properties = task.properties ?? {};
    const startAfter = task.triggeredAfter === undefined ? undefined : goDuration(task.triggeredAfter);
    const delay = startAfter ? { startAfter } : {};
    if (task.name === 'approval' || task.name === 'evaluation') {
      const schema = task.name === 'approval' ? ApprovalProperties : EvaluationProperties;
      const parsed = z.strictObject(schema.shape).safeParse(properties);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) problems.push({ task: t, problem: { path: ['properties', ...issue.path.map(String)], message: issue.message } });
        return undefined;
      }
      return { ...parsed.data, name: task.name, type: task.name, ...delay } as ProcessStep;
    }
    const defined = project.tasks && Object.hasOwn(project.tasks, task.name) ? project.tasks[task.name] : undefined;
    if (defined && defined.type !== 'external') return { ...defined, name: task.name, ...delay } as ProcessStep;
    const timeout = ExternalTimeout.safeParse(properties.timeout);
    if (!timeout.success) {
      problems.push({ task: t, problem: { path: ['properties', 'timeout'], message: timeout.error.issues[0]!.message } });
      return undefined;
    }
    // Not named in tasks: done by others all the same, and answered by admins only.
    const { executors = [], timeout: given, ...where } = defined ?? {};
    return {
      ...where,
      name: task.name,
      type: 'external',
      timeout: given ?? (timeout.data ? parseDuration(timeout.data)! : EXTERNAL_TASK_TIMEOUT_MS),
      executors,
      ...delay,
    };
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, steps: steps as ProcessStep[] };
}

/** The properties of each task, as its `.triggered` event carries them (Keptn's `data.<task>`). */
export function taskProperties(sequence: Pick<ShipyardSequence, 'tasks'>): Record<string, Record<string, unknown>> {
  return Object.fromEntries(sequence.tasks.flatMap((task) => (task.properties ? [[task.name, task.properties]] : [])));
}

/** A Go duration (`10m`, `1h30m`, `1.5h`) in milliseconds, as Keptn's `triggeredAfter` is written. */
function goDuration(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(amount) * units[unit!]!;
  return Math.round(total);
}

/** A lifecycle project's stages as people read them: each sequence, what starts it, and each task with what runs it. */
export function stagesOf(project: Pick<Project, 'tasks' | 'shipyard'>) {
  return (project.shipyard?.spec.stages ?? []).map((stage) => ({
    name: stage.name,
    sequences: stage.sequences.map((sequence) => {
      const built = sequenceSteps(project, sequence);
      return {
        name: sequence.name,
        triggeredOn: (sequence.triggeredOn ?? []).map((trigger) => trigger.event),
        tasks: sequence.tasks.map((task, t) => ({ name: task.name, type: built.ok ? built.steps[t]!.type : 'external' })),
      };
    }),
  }));
}
