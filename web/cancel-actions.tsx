import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Sessions } from '../auth/sessions.js';
import { type DeploymentStatus, isFinished } from '../core/names.js';
import { type Place, type Principal, requirePermission } from '../service/permissions.js';
import { type DashboardEnv, guards, sameOrigin } from './guard.js';
import { page } from './layout.js';
import { refusalOf } from './page-errors.js';
import { ConfirmPage } from './pages/confirm-page.js';
import type { ActionError } from './pages/deployment-props.js';

/** What cancelling one kind of run (a deployment, a release) needs from the page that shows it. */
export interface CancelKind<V extends { id: string; status: DeploymentStatus }> {
  noun: 'deployment' | 'release';
  /** Its page, where a cancel comes back to. */
  pageOf: (id: string) => string;
  /** Its view, for someone who may see it (NOT_FOUND otherwise). */
  get(user: Principal, id: string): Promise<V>;
  /** Where it is, for the permission to cancel it. */
  place(view: V): Place;
  /** The service's cancel: the same rules (deployer role there, the action rate) as the API's. */
  cancel(user: Principal, id: string): Promise<unknown>;
  /** How the confirmation names it: `Hello service 1.4.2 → production`. */
  name(view: V): string;
  /** What cancelling it does, in words. */
  explanation: string;
  /** Its page again, with a refused cancel's words next to the button. */
  rerender(c: Context<DashboardEnv>, id: string, status: ContentfulStatusCode, error: ActionError): Promise<Response>;
}

/**
 * The cancel button's confirmation page and its form, for deployments and releases alike: a
 * deployer confirms, the service cancels (or refuses, and the run's page says why), and the run's
 * page follows it to its end.
 */
export function cancelActions<V extends { id: string; status: DeploymentStatus }>(sessions: Sessions, kind: CancelKind<V>) {
  const { signedIn, formToken } = guards(sessions);
  const path = kind.noun === 'deployment' ? '/deployments/:id/cancel' : '/releases/:id/cancel';
  return new Hono<DashboardEnv>()
    .get(path, signedIn, async (c) => {
      const session = c.get('session');
      const view = await kind.get(session.user, c.req.param('id'));
      requirePermission(session.user, 'cancel', kind.place(view), `this ${kind.noun}`);
      if (isFinished(view.status)) return c.redirect(kind.pageOf(view.id), 303);
      return page(
        c,
        { title: `Cancel the ${kind.noun}?`, session, section: `${kind.noun}s` },
        <ConfirmPage
          session={session}
          heading={`Cancel ${kind.name(view)}?`}
          explanation={<p>{kind.explanation}</p>}
          action={`${kind.pageOf(view.id)}/cancel`}
          confirm="Yes, cancel it"
          back={kind.pageOf(view.id)}
          danger
        />,
      );
    })
    .post(path, sameOrigin, signedIn, formToken, async (c) => {
      const id = c.req.param('id');
      try {
        await kind.cancel(c.get('session').user, id);
      } catch (error) {
        const problem = refusalOf(c, error);
        if (!problem) throw error;
        return kind.rerender(c, id, problem.status, { where: 'cancel', message: problem.message });
      }
      return c.redirect(kind.pageOf(id), 303);
    });
}
