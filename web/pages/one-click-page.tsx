import type { Interruption } from '../../core/interruptions.js';
import { deploymentPage } from '../data.js';
import { Banner } from './banner.js';
import type { DeploymentProps } from './deployment-props.js';

/**
 * Where a one-click link from a notification lands while its interruption is open: the
 * interruption it names, for the person it names, with the same controls as the deployment's page.
 * Opening it decides nothing: the person still takes responsibility and chooses, each a form of
 * its own. Its two live regions are the ones `OneClickEndedPage` fills, so a page left open loses
 * its controls as soon as someone decides.
 */
export function OneClickPage(props: DeploymentProps & { interruption: Interruption }) {
  const { view, interruption } = props;
  return (
    <>
      <section id="one-click" class="summary" aria-labelledby="decide-heading" data-live>
        <h1 id="decide-heading">
          {interruption.step}: {view.projectName} {view.release} → {view.environment}
        </h1>
        <p>You were sent here to decide this step. Nothing has been done yet: read the instructions, take responsibility, then choose.</p>
        <p>
          <a href={deploymentPage(view.id)}>Open the whole deployment</a>
        </p>
      </section>
      <Banner {...props} />
    </>
  );
}

/** A one-click link whose interruption is over: why, and the way to the deployment; no controls. */
export function OneClickEndedPage({ deploymentId, why }: { deploymentId: string; why: string }) {
  return (
    <>
      <section id="one-click" class="card narrow" aria-labelledby="ended-heading" data-live>
        <h1 id="ended-heading">This link no longer works</h1>
        <p class="notice" role="status">
          {why} There is nothing left to decide here.
        </p>
        <p>
          <a href={deploymentPage(deploymentId)}>Open the deployment</a> to see what happened.
        </p>
      </section>
      <div id="banner" data-live hidden></div>
    </>
  );
}
