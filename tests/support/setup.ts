import { DefaultLogger, Runtime } from '@temporalio/worker';

// Expected failures (a script exiting 3) are logged by the SDK as warnings; keep test output readable.
try {
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
} catch {
  // Already installed in this worker process by an earlier test file.
}
