import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { findTemporalCli, findTestServer } from '../../temporal/binaries.js';
import { startDevServer } from '../../temporal/dev-server.js';
import { bundleWorkflows } from '../../worker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCliPath: string;
    testServerPath: string;
    workflowBundlePath: string;
  }
}

/** A Temporal server the API tests share: its frontend's address, and how to stop it. */
export interface SharedServer {
  address: string;
  stop(): Promise<void>;
}

/**
 * Once per run: the real Temporal binaries (installed if missing: a test never skips for want of a
 * server), one Temporal server shared by the API tests (each test file uses its own task queue),
 * and the workflow bundle built once.
 */
export async function provideTestRun(project: TestProject, startServer: () => Promise<SharedServer>) {
  const [temporalCliPath, testServerPath] = await Promise.all([findTemporalCli(), findTestServer()]);
  const scratch = mkdtempSync(join(tmpdir(), 'interlock-tests-'));
  let server: SharedServer | undefined;
  try {
    const [started, bundle] = await Promise.all([startServer(), bundleWorkflows()]);
    server = started;
    const workflowBundlePath = join(scratch, 'workflow-bundle.js');
    writeFileSync(workflowBundlePath, bundle.code);
    project.provide('temporalAddress', server.address);
    project.provide('temporalCliPath', temporalCliPath);
    project.provide('testServerPath', testServerPath);
    project.provide('workflowBundlePath', workflowBundlePath);
  } catch (error) {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  return async () => {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
}

/** `npm test`: the API tests share one dev server. */
export default function setup(project: TestProject) {
  return provideTestRun(project, () => startDevServer({ headless: true }));
}
