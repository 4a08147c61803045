/** `npm run token -- <username>`: a new bearer token, and the hash that goes into the config. */
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../service/signing.js';

const username = process.argv[2];
if (!username || username.startsWith('-')) {
  console.error('usage: npm run token -- <username>');
  process.exit(2);
}
const token = `il_${randomBytes(24).toString('base64url')}`;
console.log(`Token for ${username} (give it to them; it is shown only once):\n  ${token}\n`);
console.log(`Put its hash in the config, under the user "${username}":\n  tokenSha256: ${sha256Hex(token)}`);
