import { type Command, COMMANDS, COMMON, type Option } from './commands.js';

export const DEFAULT_URL = 'http://localhost:3000';

const EXIT_CODES = `Exit codes:
  0  done; for deploy --wait and wait: the deployment Succeeded
  1  the deployment ended Failed, Aborted or Cancelled; or the server refused the
     request: 401 bad token, 403 not allowed, 404 no such thing, 409 conflicting
     state (someone else holds the step, it was already decided, it has finished)
  2  bad usage: an unknown command or option, a missing or invalid value, INTERLOCK_TOKEN
     unset, or a 400 from the server; or --timeout passed before the deployment
     finished (it goes on running: interlock wait ID)
  3  the server could not be reached or could not answer: connection refused, no
     such host, no answer in time, or any 5xx (503: Temporal or the worker is down).
     Worth retrying; deploy with the same --idempotency-key never starts twice.
     While following, a lost connection is retried for 2 minutes first.
  130, 143  interrupted (Ctrl-C, SIGTERM from a cancelled CI job) while following;
     the deployment goes on (interlock cancel ID stops it).`;

export function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => usageOf(c).length));
  return `interlock: trigger, follow and decide Interlock deployments from a terminal or a CI job

Usage: interlock <command> [options]

Commands:
${COMMANDS.map((c) => `  ${usageOf(c).padEnd(width)}  ${c.summary}`).join('\n')}

Every command takes --json (one JSON document on stdout for scripts; progress and
errors on stderr) and --help. ID is a deployment's id, as deploy and list print it;
the manual step to act on is found from it.

Environment:
  INTERLOCK_URL    the Interlock server (default ${DEFAULT_URL})
  INTERLOCK_TOKEN  your bearer token (required)

${EXIT_CODES}

Example:
  interlock deploy --project hello-service --environment production --release 1.4.2 --wait
  interlock take hello-service:production:1.4.2:5f2c9a1b3e     # in another terminal
  interlock proceed hello-service:production:1.4.2:5f2c9a1b3e --notes "Desk informed"
`;
}

export function commandHelp(command: Command): string {
  const options = Object.entries({ ...command.options, ...COMMON });
  const flags = options.map(([name, option]) => flag(name, option));
  const width = Math.max(...flags.map((f) => f.length));
  return `interlock ${command.name}: ${command.summary}

Usage: interlock ${command.name}${command.args.map((a) => ` ${a}`).join('')}${requiredOf(command)} [options]
${command.description ? `\n${command.description}\n` : ''}
Options:
${options.map(([, option], i) => `  ${flags[i]!.padEnd(width)}  ${option.help.replaceAll('\n', `\n  ${' '.repeat(width)}  `)}`).join('\n')}

Environment: INTERLOCK_URL (default ${DEFAULT_URL}), INTERLOCK_TOKEN.
Exit codes: 0 ok, 1 failed or refused, 2 usage or timeout, 3 unreachable (interlock --help).
`;
}

function usageOf(command: Command): string {
  return [command.name, ...command.args].join(' ');
}

function requiredOf(command: Command): string {
  return Object.entries(command.options)
    .filter(([, option]) => option.help.includes('(required'))
    .map(([name, option]) => ` --${name} ${option.value ?? ''}`.trimEnd())
    .join('');
}

function flag(name: string, option: Option): string {
  return `${option.short ? `-${option.short}, ` : ''}--${name}${option.value ? ` ${option.value}` : ''}`;
}
