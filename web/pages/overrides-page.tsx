import type { Session } from '../../auth/sessions.js';
import type { OverrideRecord } from '../../core/break-glass.js';
import { MAX_NOTES } from '../../core/interruptions.js';
import { CsrfField, ErrorMessage, Notice, TableHead, Time } from '../components.js';
import { deploymentPage } from '../data.js';

export interface OverridesPageProps {
  session: Session;
  overrides: OverrideRecord[];
  /** `false`: only those still to review (the default); `all`: every one. */
  showing: 'false' | 'all';
  nextPageToken: string | null;
  /** A refused review: which override, and why. */
  error?: { id: string; message: string } | undefined;
  notice?: string | undefined;
}

/**
 * The admins' page of break-glass overrides (docs/change-control.md): who overrode what, when and
 * why, each with a form to mark it reviewed (with notes), or who reviewed it.
 */
export function OverridesPage({ session, overrides, showing, nextPageToken, error, notice }: OverridesPageProps) {
  const query = (extra: Record<string, string>) => `?${new URLSearchParams({ reviewed: showing, ...extra })}`;
  return (
    <section id="overrides" aria-labelledby="overrides-heading" data-live>
      <h1 id="overrides-heading">{showing === 'false' ? 'Overrides to review' : 'All overrides'}</h1>
      <p>
        Each time someone breaks glass on a policy gate (its window, a freeze or its approvals), it is listed here until an admin reviews it.{' '}
        {showing === 'false' ? <a href="/overrides?reviewed=all">Show reviewed ones too</a> : <a href="/overrides">Show only those to review</a>}
      </p>
      <Notice message={notice} />
      {overrides.length === 0 ? (
        <p class="muted" id="no-overrides">{showing === 'false' ? 'Nothing to review.' : 'Nobody has overridden a policy gate.'}</p>
      ) : (
        <table class="overrides">
          <caption class="visually-hidden">Overrides</caption>
          <TableHead columns={['When', 'Who', 'Deployment', 'What', 'Reason', 'Review']} />
          <tbody>
            {overrides.map((record) => (
              <tr id={`override-${record.id}`}>
                <td data-label="When">
                  <Time at={record.at} />
                </td>
                <td data-label="Who">
                  {record.user.displayName} ({record.user.username})
                </td>
                <td data-label="Deployment">
                  <a href={deploymentPage(record.deploymentId)}>
                    {record.project && record.release && record.environment ? `${record.project} ${record.release} → ${record.environment}` : record.deploymentId}
                  </a>
                </td>
                <td data-label="What">
                  {record.part === 'window' ? 'the window (or a freeze)' : 'the approvals'}
                  {record.step ? ` of ${record.step}` : ''}
                </td>
                <td data-label="Reason">{record.reason}</td>
                <td data-label="Review">
                  {record.reviewed ? (
                    <span class="reviewed">
                      Reviewed by {record.reviewed.user.displayName} at <Time at={record.reviewed.at} />
                      {record.reviewed.notes ? `: ${record.reviewed.notes}` : '.'}
                    </span>
                  ) : (
                    <form method="post" action={`/overrides/${encodeURIComponent(record.id)}/review`} class="review stack">
                      <CsrfField token={session.csrf} />
                      <input type="hidden" name="showing" value={showing} />
                      <label for={`review-notes-${record.id}`}>Notes</label>
                      <textarea id={`review-notes-${record.id}`} name="notes" rows={2} maxlength={MAX_NOTES} placeholder="What you found (optional)"></textarea>
                      <button type="submit" class="primary small">
                        Mark reviewed
                      </button>
                      <ErrorMessage id={`review-error-${record.id}`} message={error?.id === record.id ? error.message : undefined} />
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {nextPageToken && (
        <p>
          <a href={`/overrides${query({ pageToken: nextPageToken })}`}>Older overrides</a>
        </p>
      )}
    </section>
  );
}
