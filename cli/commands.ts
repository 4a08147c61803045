import type { Command } from './command.js';
import { cancel, deploy, list, status, wait, whoami } from './deployment-commands.js';
import { abort, fail, ignore, interruptionsCommand, override, proceed, retry, take } from './interruption-commands.js';
import { approve, decline, release, waitRelease } from './release-commands.js';

export { type Command, type Context, COMMON, type Option } from './command.js';

/** Every command, in the order `interlock --help` lists them. */
export const COMMANDS: Command[] = [
  deploy, wait, status, list, interruptionsCommand, take, proceed, abort, retry, ignore, fail, override, cancel,
  release, waitRelease, approve, decline, whoami,
];
