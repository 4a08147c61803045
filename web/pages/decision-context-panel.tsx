import type { DecisionContext } from '../../core/decision-context.js';
import type { Config } from '../../config/schema.js';
import { Time } from '../components.js';
import { displayNameOf } from '../data.js';
import { renderMarkdown } from '../markdown.js';

/**
 * What is being decided (docs/change-control.md#the-context-to-decide), in a waiting deployment's
 * banner: the previous successful deployment here and who approved it, the variables changed since
 * (sensitive ones masked), the latest evaluation, and the release notes — markdown rendered as text,
 * never raw HTML, and no script link.
 */
export function DecisionContextPanel({ config, context, environment }: { config: Config; context: DecisionContext; environment: string }) {
  const { previous, changedVariables, evaluation, releaseNotes } = context;
  const value = (text: string | null) => (text === null ? <em>none</em> : <code>{text}</code>);
  return (
    <div id="decision-context" class="decision-context">
      <p id="previous">
        {previous ? (
          <>
            Previous in {environment}: <strong>{previous.release}</strong> by {displayNameOf(config, previous.triggeredBy)}, finished <Time at={previous.finishedAt} />
            {previous.approvedBy.length > 0 ? (
              <>
                ; approved by{' '}
                {previous.approvedBy.map((approver, i) => (
                  <>
                    {i > 0 ? ', ' : ''}
                    {approver.displayName} ({approver.username}) at <Time at={approver.at} />
                  </>
                ))}
                .
              </>
            ) : (
              '; nobody approved it.'
            )}
          </>
        ) : (
          `No earlier successful deployment to ${environment}.`
        )}
      </p>
      {previous && (
        <div id="changed-variables">
          {changedVariables.length === 0 ? (
            <p>No variable changed since.</p>
          ) : (
            <>
              <p>Changed since {previous.release}:</p>
              <ul>
                {changedVariables.map((change) => (
                  <li>
                    <code>{change.name}</code>: {value(change.from)} → {value(change.to)}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
      {evaluation && (
        <p id="evaluation">
          Latest evaluation ({evaluation.step}): <strong>{evaluation.result}</strong>, score {evaluation.score}.
        </p>
      )}
      {releaseNotes?.trim() && (
        <details class="release-notes" id="release-notes" open>
          <summary>Release notes</summary>
          <div class="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(releaseNotes) }} />
        </details>
      )}
    </div>
  );
}
