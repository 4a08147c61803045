import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { accessInWords, can } from '../service/permissions.js';
import type { Session } from '../auth/sessions.js';
import { assetUrl } from './assets.js';
import { CsrfField } from './components.js';

export type Section = 'deployments' | 'releases' | 'projects' | 'overrides' | 'none';

export interface PageOptions {
  title: string;
  session: Session | undefined;
  section?: Section;
  /** Attributes the script reads: which live updates the page wants. */
  live?: Record<string, string>;
  status?: ContentfulStatusCode;
}

/** What the person may do, as the header says it: `deployer`, or `deployer on hello-service in qa`. */
const roleOf = (session: Session): string => accessInWords(session.user);

function Header({ session, section }: { session: Session | undefined; section: Section }) {
  const link = (href: string, name: Section, label: string) => (
    <li>
      <a href={href} aria-current={section === name ? 'page' : undefined}>
        {label}
      </a>
    </li>
  );
  return (
    <header class="site-header">
      <a class="brand" href="/">
        <img src={assetUrl('icon.svg')} alt="" width="24" height="24" />
        Interlock
      </a>
      {session && (
        <nav aria-label="Main">
          <ul>
            {link('/', 'deployments', 'Deployments')}
            {link('/releases', 'releases', 'Releases')}
            {link('/projects', 'projects', 'Projects')}
            {can(session.user, 'reviewOverrides') && link('/overrides', 'overrides', 'Overrides')}
            <li>
              <a href="/docs">API</a>
            </li>
          </ul>
        </nav>
      )}
      {session && (
        <div class="who">
          <span id="signed-in-as">
            Signed in as <strong>{session.user.displayName}</strong> ({session.user.username}, {roleOf(session)})
          </span>
          <form method="post" action="/sign-out">
            <CsrfField token={session.csrf} />
            <button type="submit" class="link-button">
              Sign out
            </button>
          </form>
        </div>
      )}
    </header>
  );
}

/** Renders a whole page: the frame, the header with who is signed in, and the content. */
export async function page(c: Context, options: PageOptions, content: Child): Promise<Response> {
  const { title, session, section = 'none', live = {} } = options;
  const liveAttributes = Object.fromEntries(Object.entries(live).map(([key, value]) => [`data-${key}`, value]));
  const document = (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Interlock`}</title>
        <link rel="icon" href={assetUrl('icon.svg')} type="image/svg+xml" />
        <link rel="stylesheet" href={assetUrl('app.css')} />
        <script src={assetUrl('app.js')} defer></script>
      </head>
      <body {...liveAttributes}>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <Header session={session} section={section} />
        <main id="main" tabindex={-1}>
          {content}
        </main>
        <div id="live-status" class="visually-hidden" role="status" aria-live="polite"></div>
      </body>
    </html>
  );
  c.header('Cache-Control', 'no-store');
  return c.html(`<!doctype html>${await document.toString()}`, options.status ?? 200);
}
