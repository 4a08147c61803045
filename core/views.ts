/**
 * What people and programs see of a deployment and a release: the views the API answers with and
 * the workflows' `state` queries return, and the timeline of who did what with its one rule
 * (`record`). Pure, shared by every layer.
 */
import type { Interruption, Person } from './interruptions.js';
import type { DeploymentStatus, FinishedStatus, PolicyPartState, ReleaseStatus, StepStatus, StepType, TaskResult, TimelineAction } from './names.js';
import type { Evaluation } from './slo-scoring.js';
import type { Variables } from './substitution.js';

/** One run of a step that a person chose to retry (guided failure): its own log section. */
export interface StepAttempt {
  startedAt: string | null;
  finishedAt: string | null;
  status: StepStatus;
  log: string;
}

export interface StepView {
  name: string;
  type: StepType;
  status: StepStatus;
  /** The last 64 KiB of the step's output, or why it did not run. */
  log: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** A lifecycle task's (or an evaluation's, or an approval's) Keptn result. */
  result?: TaskResult | null;
  /** Failed, and a person chose to go on anyway (guided failure's `ignore`). */
  ignored?: boolean;
  /** Every earlier run of a step a person retried, oldest first; the step's own fields are the latest run. */
  attempts?: StepAttempt[];
  /** An evaluation's per-objective scores. */
  evaluation?: Evaluation;
  /** A lifecycle task's `sh.keptn.event.<task>.triggered` event id: the `triggeredid` its `.started` and `.finished` events answer. */
  triggeredId?: string;
  /** An external task's: who may post its `.started` and `.finished` (usernames, `team:<id>`), besides admins. */
  executors?: string[];
  /** A policy gate's (type `policy`): where each of its parts stands, in the order they run (docs/change-control.md). */
  policy?: PolicyView;
}

/** The parts of a policy gate: checks, then its window and freezes, then its approvals. */
export interface PolicyView {
  checks: { state: PolicyPartState };
  window: {
    state: PolicyPartState;
    /** `Mon–Thu 09:00–16:00 Europe/London`, when the policy has a window. */
    window?: string;
    /** While closed (`Waiting`, or `Failed` with `onClosed: fail`): when it opens, and why it is closed. */
    opensAt?: string;
    reason?: string;
    /** The `Window` interruption it waits at, or waited at. */
    interruption?: string;
  };
  approvals: { state: PolicyPartState; interruption?: string };
  /** Who may break glass on its window or approvals. */
  overrideTeams: string[];
}

export interface TimelineEntry {
  at: string;
  /** The username, or `system` for timers and cancellation. */
  user: string;
  action: TimelineAction;
  /** `failed`: something Interlock did itself did not work (a notification that could not be delivered). */
  result: 'accepted' | 'refused' | 'failed';
  /** The refusal's type and words, or what an accepted action did (`took over from mlee`). */
  reason?: string;
  interruption?: string;
  via?: 'update' | 'signal';
  /** Refusals of the same person, action and reason are kept as one entry: how many, and the last one's time. */
  count?: number;
  lastAt?: string;
}

/** What `GET /api/deployments/{id}` and the `state` query return (docs/http-api.md). */
export interface DeploymentView {
  id: string;
  project: string;
  projectName: string;
  environment: string;
  release: string;
  /** `Running` (or `Waiting`) until its last step, of any run condition, has ended; only then a finished status. */
  status: DeploymentStatus;
  /**
   * The status it ends with, as soon as that is decided: `Aborted` or `Failed` from the step that
   * aborted or failed on, while the steps that run after it (`runCondition: failure`, `always`)
   * still run; the same as `status` once finished; null until then. Absent in the views of
   * deployments that started before it was kept.
   */
  outcome?: FinishedStatus | null;
  createdAt: string;
  finishedAt: string | null;
  triggeredBy: Person;
  steps: StepView[];
  interruptions: Interruption[];
  variables: Variables;
  timeline: TimelineEntry[];
  /** While `Queued`: the deployment it waits for. */
  queuedBehind?: string | null;
  /** Proceeded with `runAt`: while it waits for that time, when it goes on (docs/change-control.md). */
  scheduledFor?: string;
  /** The trigger's start-by: a deployment not past its gates by then ends `Expired`. */
  notAfter?: string;
  /** `Superseded`: the newer deployment of the same project and environment that ended it. */
  supersededBy?: string;
  /** Lifecycle deployments: where in the release this sequence runs, and how it ended. */
  stage?: string;
  sequence?: string;
  result?: TaskResult | null;
  releaseId?: string;
  keptnContext?: string;
}

export interface SequenceView {
  name: string;
  status: DeploymentStatus | 'Pending' | 'Skipped';
  result: TaskResult | null;
  deploymentId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface ReleaseView {
  id: string;
  keptnContext: string;
  project: string;
  projectName: string;
  release: string;
  status: ReleaseStatus;
  createdAt: string;
  finishedAt: string | null;
  triggeredBy: Person;
  stages: { name: string; sequences: SequenceView[] }[];
  timeline: TimelineEntry[];
}

/** At most this many entries; beyond it the oldest refusals go first (decisions are few and all kept). */
export const TIMELINE_LIMIT = 500;
/** How far back a refusal looks for its twin to join. */
const COALESCE_WINDOW = 50;

const sameRefusal = (a: TimelineEntry, b: TimelineEntry) =>
  a.result !== 'accepted' && a.result === b.result && a.user === b.user && a.action === b.action && a.reason === b.reason && a.interruption === b.interruption && a.via === b.via;

/**
 * Adds an entry to the timeline. A refusal (or failure) of the same person, action and reason as a recent one
 * joins it (`count`, `lastAt`) instead of adding a line, and the timeline never grows past
 * `TIMELINE_LIMIT`: a flood of refused signals costs a counter, not the view. Pure.
 */
export function record(timeline: TimelineEntry[], entry: TimelineEntry): void {
  if (entry.result !== 'accepted') {
    for (let i = timeline.length - 1; i >= Math.max(0, timeline.length - COALESCE_WINDOW); i--) {
      const twin = timeline[i]!;
      if (sameRefusal(twin, entry)) {
        twin.count = (twin.count ?? 1) + 1;
        twin.lastAt = entry.at;
        return;
      }
    }
  }
  timeline.push(entry);
  while (timeline.length > TIMELINE_LIMIT) {
    const oldestRefusal = timeline.findIndex((candidate) => candidate.result !== 'accepted');
    timeline.splice(oldestRefusal >= 0 ? oldestRefusal : 0, 1);
  }
}
