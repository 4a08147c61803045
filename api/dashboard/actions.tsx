import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Config } from '../../config/schema.js';
import { MAX_NOTES, describePerson, isOpen, mayTakeResponsibility } from '../../workflows/interruption.js';
import { abortUpdate, type DecisionRequest, isFinished, proceedUpdate, takeResponsibilityUpdate } from '../../workflows/messages.js';
import { actorOf, requireRole } from '../auth.js';
import type { Deployments } from '../deployments.js';
import { notFound } from '../problems.js';
import { asProblem, deploymentPath, interruptionPath } from './data.js';
import { type DashboardEnv, guards, sameOrigin } from './guard.js';
import { deploymentLive } from './live.js';
import { page } from './layout.js';
import { ConfirmPage } from './pages/confirm.js';
import { type ActionError, DeploymentPage } from './pages/deployment.js';

/**
 * The interruption's buttons and the cancel button: each posts a form here, which calls the same
 * `Deployments.act` (a Temporal update) as the API with the same actor, so the workflow decides.
 * Success redirects to the deployment's page; a refusal re-renders it with the problem's words
 * next to the control, keeping what was typed.
 */
export function interruptionActions(config: Config, deployments: Deployments) {
  const { signedIn, formToken } = guards(config);

  const rerender = async (c: Context<DashboardEnv>, id: string, status: ContentfulStatusCode, error: ActionError, notes?: string) => {
    const session = c.get('session');
    const view = await deployments.get(id);
    return page(
      c,
      { title: `${view.release} → ${view.environment} (${view.status})`, session, section: 'deployments', live: deploymentLive(view), status },
      <DeploymentPage session={session} config={config} view={view} error={error} notes={notes} />,
    );
  };

  return new Hono<DashboardEnv>()
    .get('/deployments/:id/interruptions/:iid/take-over', signedIn, async (c) => {
      const { id, iid } = c.req.param();
      const session = c.get('session');
      const view = await deployments.get(id);
      const interruption = view.interruptions.find((candidate) => candidate.id === iid);
      if (!interruption) throw notFound(`No interruption "${iid}" in this deployment.`);
      const holder = interruption.assignee;
      // Nothing to confirm any more: the page itself shows what changed.
      if (!isOpen(interruption) || !holder || holder.id === session.user.id) return c.redirect(deploymentPath(id), 303);
      const allowed = mayTakeResponsibility(interruption, actorOf(session.user));
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
          action={`${interruptionPath(id, iid)}/take-responsibility`}
          fields={{ takeOver: 'true' }}
          confirm="Yes, take over"
          back={deploymentPath(id)}
          error={allowed ? undefined : `You may not take this step: only its responsible teams (or an admin) may.`}
        />,
      );
    })
    .post('/deployments/:id/interruptions/:iid/:action{take-responsibility|proceed|abort}', sameOrigin, signedIn, formToken, async (c) => {
      const { id, iid, action } = c.req.param();
      const form = c.get('form');
      const notes = form.notes?.trim() ? form.notes.trim() : undefined;
      const base = {
        user: actorOf(c.get('session').user),
        interruptionId: iid,
        expiresAt: new Date(Date.now() + deployments.actionTimeoutMs).toISOString(),
      };
      if (action === 'take-responsibility') {
        const takeOver = form.takeOver === 'true';
        try {
          await deployments.act(takeResponsibilityUpdate, id, { ...base, ...(takeOver ? { takeOver } : {}) });
        } catch (error) {
          const problem = asProblem(error);
          if (!problem) throw error;
          return rerender(c, id, problem.status, { where: 'take', message: problem.detail });
        }
        return c.redirect(`${deploymentPath(id)}#banner`, 303);
      }
      if (action === 'abort' && !notes) {
        return rerender(c, id, 400, { where: 'decide', message: 'Say in Notes why you abort: the people after you will read it.' });
      }
      if (notes && notes.length > MAX_NOTES) {
        return rerender(c, id, 400, { where: 'decide', message: `Notes may be at most ${MAX_NOTES} characters; these are ${notes.length}.` }, notes);
      }
      const request: DecisionRequest = { ...base, ...(notes === undefined ? {} : { notes }) };
      try {
        await deployments.act(action === 'proceed' ? proceedUpdate : abortUpdate, id, request);
      } catch (error) {
        const problem = asProblem(error);
        if (!problem) throw error;
        return rerender(c, id, problem.status, { where: 'decide', message: problem.detail }, notes);
      }
      return c.redirect(deploymentPath(id), 303);
    })
    .get('/deployments/:id/cancel', signedIn, async (c) => {
      const id = c.req.param('id');
      const session = c.get('session');
      requireRole(session.user, 'deployer', 'cancel deployments');
      const view = await deployments.get(id);
      if (isFinished(view.status)) return c.redirect(deploymentPath(id), 303);
      return page(
        c,
        { title: 'Cancel the deployment?', session, section: 'deployments' },
        <ConfirmPage
          session={session}
          heading={`Cancel ${view.projectName} ${view.release} → ${view.environment}?`}
          explanation={<p>A running script is stopped, no later step runs, and the deployment ends as Cancelled. This cannot be undone.</p>}
          action={`${deploymentPath(id)}/cancel`}
          confirm="Yes, cancel it"
          back={deploymentPath(id)}
          danger
        />,
      );
    })
    .post('/deployments/:id/cancel', sameOrigin, signedIn, formToken, async (c) => {
      const id = c.req.param('id');
      try {
        requireRole(c.get('session').user, 'deployer', 'cancel deployments');
        const handle = await deployments.running(id);
        await deployments.withDeadline(() => handle.cancel());
      } catch (error) {
        const problem = asProblem(error);
        if (!problem) throw error;
        return rerender(c, id, problem.status, { where: 'cancel', message: problem.detail });
      }
      return c.redirect(deploymentPath(id), 303);
    });
}
