import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config, User } from '../config/schema.js';

/**
 * Finds the user whose `tokenSha256` matches the token. Every user's hash is compared, each in
 * constant time, so the answer's timing says nothing about which hash came close.
 */
export function userForToken(config: Config, token: string): User | undefined {
  const presented = createHash('sha256').update(token).digest();
  let found: User | undefined;
  for (const [user, hash] of hashesOf(config.users)) {
    if (timingSafeEqual(presented, hash) && !found) found = user;
  }
  return found;
}

/** Each user's tokenSha256 as bytes, decoded once per config rather than on every request. */
const hashes = new WeakMap<readonly User[], [User, Buffer][]>();
function hashesOf(users: readonly User[]): [User, Buffer][] {
  let known = hashes.get(users);
  if (!known) hashes.set(users, (known = users.map((user) => [user, Buffer.from(user.tokenSha256, 'hex')])));
  return known;
}
