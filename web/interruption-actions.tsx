import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { actionsOf } from '../service/permissions.js';
import type { Deployments, InterruptionActionRequest } from '../service/deployments.js';
import { notFound } from '../service/errors.js';
import { describePerson, type InputValues, isOpen, notesProblem } from '../core/interruptions.js';
import { inputProblems, parseInputValue } from '../core/approver-inputs.js';
import { isDecisionType } from '../core/names.js';
import { deploymentPage, interruptionPage } from './data.js';
import { refusalOf } from './page-errors.js';
import { type DashboardEnv, guards, safeNext, sameOrigin } from './guard.js';
import type { Sessions } from '../auth/sessions.js';
import { deploymentLive } from './live.js';
import { page } from './layout.js';
import { cancelActions } from './cancel-actions.js';
import { ConfirmPage } from './pages/confirm-page.js';
import { type ActionError, DeploymentPage } from './pages/deployment-page.js';

/**
 * The interruption's buttons and the cancel button: each posts a form here, which calls the same
 * service methods (`act`, `cancel`) as the API with the same user, so the same rules decide.
 * Success redirects to the deployment's page; a refusal re-renders it with the problem's words
 * next to the control, keeping what was typed.
 */
export function interruptionActions(deployments: Deployments, sessions: Sessions) {
  const { config } = deployments;
  const { signedIn, formToken } = guards(sessions);

  const rerender = async (c: Context<DashboardEnv>, id: string, status: ContentfulStatusCode, error: ActionError, notes?: string, inputs?: Record<string, string>) => {
    const session = c.get('session');
    const view = await deployments.get(session.user, id);
    return page(
      c,
      { title: `${view.release} → ${view.environment} (${view.status})`, session, section: 'deployments', live: deploymentLive(view), status },
      <DeploymentPage session={session} config={config} view={view} error={error} notes={notes} inputs={inputs} back={backOf(c)} />,
    );
  };
  /**
   * A proceed's inputs as the step declares them (core/approver-inputs.ts): each field typed (a
   * checkbox left unticked is false), and the one rule's problems, each by input name.
   */
  const inputsOf = async (id: string, iid: string, typed: Record<string, string>) => {
    const declared = (await deployments.view(id)).interruptions.find((candidate) => candidate.id === iid)?.inputs;
    if (!declared) return Object.keys(typed).length > 0 ? { values: typed as InputValues, problems: inputProblems([], typed) } : undefined;
    const values: InputValues = {};
    for (const input of declared) {
      const value = input.type === 'boolean' ? parseInputValue(input, typed[input.name] ?? 'false') : parseInputValue(input, typed[input.name]);
      if (value !== undefined) values[input.name] = value;
    }
    for (const name of Object.keys(typed)) if (!declared.some((input) => input.name === name)) values[name] = typed[name]!;
    return { values, problems: inputProblems(declared, values) };
  };
  /** Where a form asked to come back to (a release's page, a one-click page), if it is a page of ours. */
  const backOf = (c: Context<DashboardEnv>) => (c.get('form')?.back ? safeNext(c.get('form').back) : undefined);

  return new Hono<DashboardEnv>()
    .get('/deployments/:id/interruptions/:iid/take-over', signedIn, async (c) => {
      const { id, iid } = c.req.param();
      const session = c.get('session');
      const view = await deployments.get(session.user, id);
      const interruption = view.interruptions.find((candidate) => candidate.id === iid);
      if (!interruption) throw notFound(`No interruption "${iid}" in this deployment.`);
      const holder = interruption.assignee;
      // Nothing to confirm any more: the page itself shows what changed.
      if (!isOpen(interruption) || !holder || holder.id === session.user.id) return c.redirect(deploymentPage(id), 303);
      const allowed = actionsOf(interruption, session.user, view).includes('takeOver');
      return page(
        c,
        { title: 'Take over?', session, section: 'deployments', status: allowed ? 200 : 403 },
        <ConfirmPage
          session={session}
          heading={`Take over “${interruption.step}”?`}
          explanation={
            <p>
              {describePerson(holder)} is responsible for this step of {view.projectName} {view.release} → {view.environment}. If you
              take it over, you become responsible, only you can proceed or abort, and the timeline records that you took it from them.
            </p>
          }
          action={`${interruptionPage(id, iid)}/take-responsibility`}
          fields={{ takeOver: 'true' }}
          confirm="Yes, take over"
          back={deploymentPage(id)}
          error={allowed ? undefined : `You may not take this step: only its responsible teams (or an admin) may.`}
        />,
      );
    })
    .post('/deployments/:id/interruptions/:iid/:action{take-responsibility|proceed|abort|retry|ignore|fail}', sameOrigin, signedIn, formToken, async (c) => {
      const { id, iid, action } = c.req.param();
      const form = c.get('form');
      const notes = form.notes?.trim() ? form.notes.trim() : undefined;
      const notesRefused = notesProblem(notes);
      // The approver inputs (`input.<name>`), typed as the step declares them; only proceed carries them.
      const typed = Object.fromEntries(Object.entries(form).filter(([name]) => name.startsWith('input.')).map(([name, value]) => [name.slice(6), value]));
      if (notesRefused !== undefined) return rerender(c, id, 400, { where: 'decide', message: notesRefused }, notes, typed);
      const inputs = action === 'proceed' ? await inputsOf(id, iid, typed) : undefined;
      if (inputs?.problems.length) {
        const fields = Object.fromEntries(inputs.problems.map(({ name, reason }) => [name, reason]));
        const message = `Check the inputs: ${inputs.problems.map(({ name, reason }) => (name ? `${name}: ${reason}` : reason)).join('; ')}.`;
        return rerender(c, id, 400, { where: 'decide', message, fields }, notes, typed);
      }
      // "Go on later" (docs/change-control.md#deploy-later): the form's field is a UTC wall-clock time.
      const runAt = action === 'proceed' && form.runAt?.trim() ? utcOf(form.runAt.trim()) : undefined;
      const request: InterruptionActionRequest = isDecisionType(action)
        ? { type: action, notes, ...(inputs?.values ? { inputs: inputs.values } : {}), ...(runAt ? { runAt } : {}) }
        : { type: 'takeResponsibility', takeOver: form.takeOver === 'true' };
      try {
        await deployments.act(c.get('session').user, id, iid, request);
      } catch (error) {
        const problem = refusalOf(c, error);
        if (!problem) throw error;
        const where = request.type === 'takeResponsibility' ? 'take' : 'decide';
        return rerender(c, id, problem.status, { where, message: problem.message }, notes, typed);
      }
      // From a one-click link's page, a decision comes back to the link, which now says it is decided and by whom.
      const back = backOf(c) ?? deploymentPage(id);
      return c.redirect(request.type === 'takeResponsibility' ? `${back}#banner` : back, 303);
    })
    .route('/', cancelActions(sessions, {
      noun: 'deployment',
      pageOf: deploymentPage,
      get: (user, id) => deployments.get(user, id),
      place: (view) => ({ project: view.project, environment: view.environment }),
      cancel: (user, id) => deployments.cancel(user, id),
      name: (view) => `${view.projectName} ${view.release} → ${view.environment}`,
      explanation: 'A running script is stopped, no later step runs, and the deployment ends as Cancelled. This cannot be undone.',
      rerender: (c, id, status, error) => rerender(c, id, status, error),
    }));
}

/** A `datetime-local` field's value (`2026-12-07T09:00`, no zone), read as UTC as its label says; anything else as given, for the one rule to judge. */
const utcOf = (value: string): string => (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(value) ? `${value.length === 16 ? `${value}:00` : value}Z` : value);
