import type { Child } from 'hono/jsx';
import type { Session } from '../../auth/sessions.js';
import { CsrfField, ErrorMessage } from '../components.js';

export interface ConfirmProps {
  session: Session;
  heading: string;
  /** What happens if they confirm, in words. */
  explanation: Child;
  action: string;
  fields?: Record<string, string>;
  confirm: string;
  back: string;
  error?: string | undefined;
  danger?: boolean;
}

/** The step between a consequential button and its effect, without JavaScript: a page with one form. */
export function ConfirmPage({ session, heading, explanation, action, fields = {}, confirm, back, error, danger }: ConfirmProps) {
  return (
    <section class="card narrow" aria-labelledby="confirm-heading">
      <h1 id="confirm-heading">{heading}</h1>
      {explanation}
      <ErrorMessage id="confirm-error" message={error} />
      <form method="post" action={action} class="buttons">
        <CsrfField token={session.csrf} />
        {Object.entries(fields).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <button type="submit" class={danger ? 'danger' : 'primary'}>
          {confirm}
        </button>
        <a href={back}>No, go back</a>
      </form>
    </section>
  );
}
