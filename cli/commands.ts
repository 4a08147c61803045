import type { Command } from './command.js';
import { cancel, deploy, list, status, wait, whoami } from './deployment-commands.js';
import { abort, interruptionsCommand, proceed, take } from './interruption-commands.js';

export { type Command, type Context, COMMON, type Option } from './command.js';

/** Every command, in the order `interlock --help` lists them. */
export const COMMANDS: Command[] = [deploy, wait, status, list, interruptionsCommand, take, proceed, abort, cancel, whoami];
