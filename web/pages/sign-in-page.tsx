import { ErrorMessage, Notice } from '../components.js';

export interface SignInProps {
  next: string;
  error?: string;
  notice?: string;
  /** `auth.oidc.name`, when people may sign in with the identity provider: its button comes first. */
  provider?: string | undefined;
  /** Why the provider's sign-in did not work, under its button. */
  providerError?: string | undefined;
}

export function SignInPage({ next, error, notice, provider, providerError }: SignInProps) {
  return (
    <section class="card narrow" aria-labelledby="sign-in-heading">
      <h1 id="sign-in-heading">Sign in</h1>
      <Notice message={notice} />
      {provider && (
        <p>
          <a class="button primary" id="sign-in-with-provider" href={`/auth/oidc/login?next=${encodeURIComponent(next)}`}>
            Sign in with {provider}
          </a>
        </p>
      )}
      {provider && <ErrorMessage id="provider-error" message={providerError} />}
      {provider && <p class="hint">Or, with a token an admin made for you:</p>}
      <form method="post" action="/sign-in" class="stack" data-sign-in>
        <input type="hidden" name="next" value={next} />
        <div class="field">
          <label for="token">Your token</label>
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="current-password"
            required
            autofocus
            aria-describedby={error ? 'token-hint token-error' : 'token-hint'}
            aria-invalid={error ? 'true' : undefined}
          />
          <p id="token-hint" class="hint">
            The token an admin made for you with <code>npm run token -- &lt;username&gt;</code>. Interlock keeps only its
            hash; you stay signed in on this browser for 12 hours.
          </p>
          <ErrorMessage id="token-error" message={error} />
        </div>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </section>
  );
}
