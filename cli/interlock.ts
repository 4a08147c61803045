/**
 * `interlock`: the command line of Interlock's HTTP API, for terminals and CI jobs. Configured by
 * INTERLOCK_URL and INTERLOCK_TOKEN; its exit codes (`interlock --help`) are a contract for
 * pipelines: 0 ok, 1 failed or refused, 2 usage or timeout, 3 unreachable.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, Client, EXIT, type ExitCode } from './client.js';
import { COMMANDS, COMMON, type Context } from './commands.js';
import { commandHelp, DEFAULT_URL, topHelp } from './help.js';

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  const [name, ...rest] = argv;
  const json = argv.includes('--json');
  const out = (text: string) => void process.stdout.write(`${text}\n`);
  const err = (text: string) => void process.stderr.write(`${text}\n`);

  if (name === undefined) return usage(topHelp(), 'no command given.', json);
  if (name === '--help' || name === '-h') return out(topHelp()), EXIT.ok;
  if (name === 'help') {
    const command = COMMANDS.find((c) => c.name === rest[0]);
    if (rest[0] !== undefined && !command) return usage(topHelp(), `no command "${rest[0]}".`, json);
    return out(command ? commandHelp(command) : topHelp()), EXIT.ok;
  }
  if (name === '--version' || name === '-V') return out(version()), EXIT.ok;
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const what = name.startsWith('-') ? `put the command before options ("${name}").` : `no command "${name}".`;
    return usage(topHelp(), what, json);
  }

  let values: Record<string, string | boolean | string[] | undefined>;
  let args: string[];
  try {
    const options = Object.fromEntries(
      Object.entries({ ...command.options, ...COMMON }).map(([key, { type, multiple, short }]) => [
        key,
        { type, ...(multiple ? { multiple } : {}), ...(short ? { short } : {}) },
      ]),
    ) as NonNullable<ParseArgsConfig['options']>;
    const parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    values = parsed.values as typeof values;
    args = parsed.positionals;
  } catch (error) {
    // node's messages go on to explain `--`; the first sentence is the part a person needs.
    return usage(commandHelp(command), `${(error as Error).message.split(/\.\s/)[0]!.replace(/\.$/, '')}.`, json);
  }
  if (values.help) return out(commandHelp(command)), EXIT.ok;
  if (args.length !== command.args.length) {
    const expected = command.args.length ? `needs ${command.args.join(' ')}` : 'takes no arguments';
    return usage(commandHelp(command), `${command.name} ${expected}${args.length ? `, not "${args.join(' ')}"` : ''}.`, json);
  }

  const ctx: Context = {
    client: new Client(env.INTERLOCK_URL || DEFAULT_URL, env.INTERLOCK_TOKEN || undefined),
    json,
    out,
    log: json ? err : out,
  };
  try {
    return await command.run(ctx, values, args);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    if (error.showHelp) return usage(commandHelp(command), error.message, json);
    return fail(error, json);
  }
}

/** A usage error: the message, then the help that shows the right way (on stderr), exit 2. */
function usage(help: string, message: string, json: boolean): ExitCode {
  fail(new CliError(message, EXIT.usage), json);
  process.stderr.write(`\n${help}`);
  return EXIT.usage;
}

/** One line on stderr; with --json also the error on stdout, so a script reading stdout always gets JSON. */
function fail(error: CliError, json: boolean): ExitCode {
  process.stderr.write(`interlock: ${error.message}\n`);
  if (json) {
    const body = { error: { message: error.message, exitCode: error.exitCode, ...(error.problem ? { problem: error.problem } : {}) } };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  }
  return error.exitCode;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return `interlock ${pkg.version}`;
}

/** The program: `bin/interlock.mjs` calls this. Exit codes are set, not forced, so piped output is never cut off. */
export async function run(): Promise<void> {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`interlock: unexpected error (a bug in interlock; please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = EXIT.failed;
  }
}
