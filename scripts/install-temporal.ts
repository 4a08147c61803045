/** `npm run temporal:install`: the pinned Temporal CLI and test server, unless PATH or an env var already has them. */
import { findTemporalCli, findTestServer } from '../temporal/binaries.js';

try {
  const [cli, testServer] = await Promise.all([findTemporalCli(), findTestServer()]);
  console.log(`Temporal CLI:         ${cli}\nTemporal test server: ${testServer}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
