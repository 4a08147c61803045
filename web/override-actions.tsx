import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Sessions } from '../auth/sessions.js';
import { overrideReasonProblem } from '../core/break-glass.js';
import type { Deployments } from '../service/deployments.js';
import type { PolicyOverrides } from '../service/policy-overrides.js';
import { deploymentPage } from './data.js';
import { type DashboardEnv, guards, safeNext, sameOrigin } from './guard.js';
import { page } from './layout.js';
import { deploymentLive } from './live.js';
import { refusalOf } from './page-errors.js';
import { DeploymentPage } from './pages/deployment-page.js';
import { OverridesPage } from './pages/overrides-page.js';

/**
 * Break-glass from the dashboard (docs/change-control.md): the banner's "Override" form, which calls
 * the same service as `POST …/interruptions/{iid}/override`, and the admins' page of overrides to
 * review with its "Mark reviewed" forms. A refusal comes back next to the control, keeping what was typed.
 */
export function overrideActions(deployments: Deployments, overrides: PolicyOverrides, sessions: Sessions) {
  const { config } = deployments;
  const { signedIn, formToken } = guards(sessions);
  const backOf = (c: Context<DashboardEnv>) => (c.get('form')?.back ? safeNext(c.get('form').back) : undefined);

  const rerender = async (c: Context<DashboardEnv>, id: string, status: ContentfulStatusCode, message: string, reason: string | undefined) => {
    const session = c.get('session');
    const view = await deployments.get(session.user, id);
    return page(
      c,
      { title: `${view.release} → ${view.environment} (${view.status})`, session, section: 'deployments', live: deploymentLive(view), status },
      <DeploymentPage session={session} config={config} view={view} error={{ where: 'override', message }} reason={reason} back={backOf(c)} />,
    );
  };

  const listPage = async (c: Context<DashboardEnv>, showing: 'false' | 'all', pageToken: string | undefined, extra: { error?: { id: string; message: string }; notice?: string; status?: ContentfulStatusCode } = {}) => {
    const session = c.get('session');
    const list = await overrides.list(session.user, { reviewed: showing === 'all' ? undefined : false, pageSize: 50, pageToken });
    return page(
      c,
      { title: 'Overrides', session, section: 'overrides', status: extra.status ?? 200 },
      <OverridesPage session={session} overrides={list.overrides} showing={showing} nextPageToken={list.nextPageToken} error={extra.error} notice={extra.notice} />,
    );
  };
  const showingOf = (value: string | undefined): 'false' | 'all' => (value === 'all' ? 'all' : 'false');
  const tokenOf = (value: string | undefined) => (value && /^[A-Za-z0-9_.:-]{1,200}$/.test(value) ? value : undefined);

  return new Hono<DashboardEnv>()
    .post('/deployments/:id/interruptions/:iid/override', sameOrigin, signedIn, formToken, async (c) => {
      const { id, iid } = c.req.param();
      const reason = c.get('form').reason?.trim() || undefined;
      const problem = overrideReasonProblem(reason);
      if (problem !== undefined) return rerender(c, id, 400, problem, reason);
      try {
        await overrides.override(c.get('session').user, id, iid, reason, c.get('logger'));
      } catch (error) {
        const refusal = refusalOf(c, error);
        if (!refusal) throw error;
        return rerender(c, id, refusal.status, refusal.message, reason);
      }
      return c.redirect(backOf(c) ?? deploymentPage(id), 303);
    })
    // Admins only: anyone else gets the API's refusal (403), as a page.
    .get('/overrides', signedIn, (c) => listPage(c, showingOf(c.req.query('reviewed')), tokenOf(c.req.query('pageToken'))))
    .post('/overrides/:overrideId/review', sameOrigin, signedIn, formToken, async (c) => {
      const overrideId = c.req.param('overrideId');
      const form = c.get('form');
      const showing = showingOf(form.showing);
      try {
        await overrides.review(c.get('session').user, overrideId, form.notes?.trim() || undefined, c.get('logger'));
      } catch (error) {
        const refusal = refusalOf(c, error);
        if (!refusal || refusal.code === 'FORBIDDEN') throw error;
        return listPage(c, showing, undefined, { error: { id: overrideId, message: refusal.message }, status: refusal.status });
      }
      return c.redirect(`/overrides${showing === 'all' ? '?reviewed=all' : ''}`, 303);
    });
}
