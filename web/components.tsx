import type { Child } from 'hono/jsx';
import type { DeploymentStatus, StepStatus } from '../workflows/messages.js';

type Status = DeploymentStatus | StepStatus;

/** One shape per status, so a badge reads without colour (and its word says it again). */
const ICONS: Record<Status, Child> = {
  Succeeded: <path d="M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1Zm3.4 4.6-4.2 5.2-2.6-2.4 1-1.1 1.4 1.3 3.2-4 1.2 1Z" />,
  Failed: <path d="M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1Zm2.8 4.3L9.1 8l1.7 2.7-1.1 1.1L8 9.1l-2.7 1.7-1.1-1.1L6.9 8 5.2 5.3l1.1-1.1L8 6.9l2.7-1.7 1.1 1.1Z" />,
  Aborted: <path d="M5.1 1h5.8L15 5.1v5.8L10.9 15H5.1L1 10.9V5.1L5.1 1Zm-1 6v2h7.8V7H4.1Z" />,
  Cancelled: <path d="M3 3h10v10H3z" />,
  Superseded: <path d="M2 4h8v2H2zM2 10h8v2H2zM11 2l4 6-4 6V2Z" />,
  Expired: <path d="M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1Zm-.9 3h1.8v4.5l3 1.8-.9 1.5-3.9-2.3V4Z" />,
  Running: <path d="M4 2.5v11l9-5.5-9-5.5Z" />,
  Waiting: <path d="M3 2h4v12H3zM9 2h4v12H9z" />,
  Queued: <path d="M2 3h12v2H2zM2 7h12v2H2zM2 11h8v2H2z" />,
  Pending: <path d="M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13Zm0 1.8a4.7 4.7 0 1 1 0 9.4 4.7 4.7 0 0 1 0-9.4Z" />,
  Skipped: <path d="M2 3v10l7-5-7-5Zm8 0h2.5v10H10z" />,
};

export function StatusBadge({ status, id }: { status: Status; id?: string }) {
  return (
    <span class={`badge badge-${status.toLowerCase()}`} id={id} data-status={status}>
      <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false" fill="currentColor">
        {ICONS[status]}
      </svg>
      {status}
    </span>
  );
}

/** A moment in UTC, which the script turns into the reader's local time. */
export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span>—</span>;
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return <span>{at}</span>;
  return <time datetime={date.toISOString()}>{date.toISOString().slice(0, 19).replace('T', ' ')} UTC</time>;
}

export function elapsed(from: string | null | undefined, to: string | null | undefined): string {
  if (!from || !to) return '';
  const ms = new Date(to).getTime() - new Date(from).getTime();
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${ms} ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${(ms / 1000).toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

/** The hidden field every dashboard form sends back; the server compares it with the session's nonce. */
export const CsrfField = ({ token }: { token: string }) => <input type="hidden" name="_csrf" value={token} />;

/** A readable error next to what caused it; `role="alert"` so it is announced when it appears. */
export function ErrorMessage({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p class="error" id={id} role="alert">
      <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false" fill="currentColor">
        <path d="M8 1 15.5 14.5H.5L8 1Zm-.9 5v4.2h1.8V6H7.1Zm0 5.4v1.8h1.8v-1.8H7.1Z" />
      </svg>
      <span>{message}</span>
    </p>
  );
}

export function Notice({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <p class="notice" role="status">
      {message}
    </p>
  );
}

/** Who triggered a run (a deployment or a release), when it started and finished, and its workflow in Temporal Web: the last facts of its page. */
export function RunFacts({ triggeredBy, createdAt, finishedAt, temporal }: {
  triggeredBy: { displayName: string; username: string };
  createdAt: string;
  finishedAt: string | null | undefined;
  temporal: string | null | undefined;
}) {
  return (
    <>
      <div>
        <dt>Triggered by</dt>
        <dd>
          {triggeredBy.displayName} ({triggeredBy.username})
        </dd>
      </div>
      <div>
        <dt>Started</dt>
        <dd>
          <Time at={createdAt} />
        </dd>
      </div>
      {finishedAt && (
        <div>
          <dt>Finished</dt>
          <dd>
            <Time at={finishedAt} /> ({elapsed(createdAt, finishedAt)})
          </dd>
        </div>
      )}
      {temporal && (
        <div>
          <dt>Workflow</dt>
          <dd>
            <a href={temporal} rel="noopener noreferrer">
              Open in Temporal Web
            </a>
          </dd>
        </div>
      )}
    </>
  );
}

/** The button to a run's cancel confirmation page, for whoever may cancel, and a refused cancel's error. */
export function CancelButton({ page, what, show, error }: { page: string; what: 'deployment' | 'release'; show: boolean; error: string | undefined }) {
  return (
    <>
      {show && (
        <form method="get" action={`${page}/cancel`}>
          <button type="submit" class="secondary small">
            Cancel {what}…
          </button>
        </form>
      )}
      <ErrorMessage id="cancel-error" message={error} />
    </>
  );
}

/** A table's header row: one column heading each. */
export function TableHead({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th scope="col">{column}</th>
        ))}
      </tr>
    </thead>
  );
}

/** A column of a list: its heading, and what each row shows in it. */
export interface Column<Row> {
  heading: string;
  cell: (row: Row) => Child;
}

/** A list of runs (deployments or releases) as a table, each cell labelled with its column for narrow screens, where rows become cards. */
export function ListTable<Row>({ rows, columns, caption, class: className }: { rows: Row[]; columns: Column<Row>[]; caption: string; class: string }) {
  return (
    <table class={className}>
      <caption class="visually-hidden">{caption}</caption>
      <TableHead columns={columns.map((column) => column.heading)} />
      <tbody>
        {rows.map((row) => (
          <tr>
            {columns.map((column) => (
              <td data-label={column.heading}>{column.cell(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One filter of a list: a choice of values, or any. */
export interface FilterChoice {
  name: string;
  label: string;
  value: string | undefined;
  options: [string, string][];
}

function Select({ name, label, value, options }: FilterChoice) {
  return (
    <div class="field">
      <label for={`filter-${name}`}>{label}</label>
      <select id={`filter-${name}`} name={name}>
        <option value="">Any</option>
        {options.map(([optionValue, text]) => (
          <option value={optionValue} selected={optionValue === value}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The filters of a list of runs, sent back to its own page (`action`) as a query. */
export function FilterForm({ action, what, choices }: { action: string; what: string; choices: FilterChoice[] }) {
  return (
    <form method="get" action={action} class="filters" role="search" aria-label={`Filter ${what}`}>
      {choices.map((choice) => (
        <Select {...choice} />
      ))}
      <div class="filter-buttons">
        <button type="submit">Filter</button>
        <a href={action}>Clear filters</a>
      </div>
    </form>
  );
}

/** The link to a list's next page: the same filters, and the token of the page after this one. */
export function OlderLink({ action, filters, token, what }: { action: string; filters: Record<string, string | undefined>; token: string | null; what: string }) {
  if (!token) return null;
  const query = new URLSearchParams(Object.entries({ ...filters, pageToken: token }).filter((entry): entry is [string, string] => Boolean(entry[1])));
  return (
    <p>
      <a href={`${action}?${query}`}>Older {what}</a>
    </p>
  );
}

