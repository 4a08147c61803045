import type { Interruption } from '../../workflows/interruption.js';
import { isOpen } from '../../workflows/interruption.js';
import { Notice } from '../components.js';
import { deploymentPage } from '../data.js';
import { Banner } from './banner.js';
import type { DeploymentProps } from './deployment-props.js';

/**
 * Where a one-click link from a notification lands (SPEC §10): the interruption it names, for the
 * person it names, with the same controls as the deployment's page. Opening it decides nothing:
 * the person still takes responsibility and chooses, each a form of its own.
 */
export function OneClickPage(props: DeploymentProps & { interruption: Interruption }) {
  const { view, interruption } = props;
  const open = isOpen(interruption) && view.status === 'Waiting';
  return (
    <>
      <section class="summary" aria-labelledby="decide-heading">
        <h1 id="decide-heading">
          {interruption.step}: {view.projectName} {view.release} → {view.environment}
        </h1>
        <p>
          You were sent here to decide this step. Nothing has been done yet:{' '}
          {open ? 'read the instructions, take responsibility, then choose.' : 'it is no longer open.'}
        </p>
        <p>
          <a href={deploymentPage(view.id)}>Open the whole deployment</a>
        </p>
      </section>
      {open ? (
        <Banner {...props} />
      ) : (
        <Notice message={`“${interruption.step}” is ${interruption.state}${interruption.assignee ? ` (${interruption.assignee.displayName})` : ''}; there is nothing left to decide here.`} />
      )}
    </>
  );
}
