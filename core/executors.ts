/**
 * Who may answer an external task (post its `.started` and `.finished` events): the rule the API
 * applies before it sends anything, and the workflow again against the deployment's own copy of
 * the task. Pure, so both sides share it.
 */
import type { Actor } from './interruptions.js';

/** An admin; a user the task names by username; a member of a team it names as `team:<id>`. */
export function mayAnswerTask(executors: readonly string[] | undefined, actor: Pick<Actor, 'username' | 'teams' | 'roles'>): boolean {
  if ((actor.roles ?? []).includes('admin')) return true;
  return (executors ?? []).some((executor) =>
    executor.startsWith('team:') ? (actor.teams ?? []).includes(executor.slice('team:'.length)) : executor === actor.username,
  );
}

/** Who may answer, in words: `je-bot, team:qa-bots (and admins)`, or `admins only`. */
export function executorsInWords(executors: readonly string[] | undefined): string {
  return executors && executors.length > 0 ? `${executors.join(', ')} (and admins)` : 'admins only';
}
