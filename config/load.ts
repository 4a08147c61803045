import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, Parser } from 'yaml';
import type { z } from 'zod';
import { type Config, ConfigSchema } from './schema.js';

/** The example config shipped with Interlock, used when there is no `interlock.yaml`. */
export const EXAMPLE_CONFIG_PATH = fileURLToPath(new URL('../examples/interlock.yaml', import.meta.url));

/** A config file that cannot be used; `problems` lists each one as `path: message`. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} is not a valid Interlock config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** `INTERLOCK_CONFIG`, else `./interlock.yaml` when it exists, else the shipped example. */
export function resolveConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.INTERLOCK_CONFIG) return resolve(env.INTERLOCK_CONFIG);
  const local = resolve('interlock.yaml');
  return existsSync(local) ? local : EXAMPLE_CONFIG_PATH;
}

export function loadConfig(file: string = resolveConfigPath()): Config {
  return parseConfig(readConfigFile(file), file);
}

/** The config file's text, or a ConfigError saying why it cannot be read. */
export function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot read the file: ${(error as Error).message}`]);
  }
}

/** Parses and validates config text; every problem is reported at once, by path. */
export function parseConfig(text: string, file = 'config'): Config {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const problems = document.errors.map((error) => {
    const { line, col } = lines.linePos(error.pos[0]);
    return `line ${line}, column ${col}: ${error.message.split('\n')[0]}`;
  });
  problems.push(...swallowedVariables(text, lines));
  if (problems.length > 0) throw new ConfigError(file, problems);

  const raw = document.toJS() ?? {};
  const unread = readShipyardFiles(raw, file);
  const result = ConfigSchema.safeParse(raw);
  // A shipyardFile that could not be read is said once, not again as a project without a shipyard.
  const issues = result.success ? [] : result.error.issues.filter((issue) => !(issue.path.length === 2 && unread.failed.has(issue.path[1] as number)));
  problems.push(...unread.problems);
  if (!result.success || problems.length > 0) throw new ConfigError(file, [...problems, ...describeIssues(issues)]);
  return result.data;
}

/**
 * A lifecycle project's `shipyardFile`, read (relative to the config file) into its `shipyard`,
 * so the schema checks it as if it were inline and its problems carry the same paths.
 */
function readShipyardFiles(raw: unknown, file: string): { problems: string[]; failed: Set<number> } {
  const projects = (raw as { projects?: unknown }).projects;
  const failed = new Set<number>();
  if (!Array.isArray(projects)) return { problems: [], failed };
  const problems = projects.flatMap((project: unknown, p) => {
    if (typeof project !== 'object' || project === null || !('shipyardFile' in project) || typeof project.shipyardFile !== 'string') return [];
    const place = `projects[${p}].shipyardFile`;
    if ('shipyard' in project) return [`${place}: give shipyard or shipyardFile, not both`];
    const path = resolve(dirname(file), project.shipyardFile);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      failed.add(p);
      return [`${place}: cannot read ${path}: ${(error as Error).message}`];
    }
    const shipyard = parseDocument(text, { prettyErrors: false });
    if (shipyard.errors.length > 0) {
      failed.add(p);
      return shipyard.errors.map((error) => `${place}: ${path} is not valid YAML: ${error.message.split('\n')[0]}`);
    }
    (project as Record<string, unknown>).shipyard = shipyard.toJS();
    return [];
  });
  return { problems, failed };
}

/** `projects[0].process[2].responsibleTeams[0]: unknown team "dba"` */
export function describeIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${formatPath(issue.path) || '(top level)'}: ${issue.message}`);
}

/** A file's path as a person at a terminal reads it best: relative when it is below the working directory. */
export function shownPath(path: string): string {
  const near = relative('.', path);
  return near && !near.startsWith('..') ? near : path;
}

export function formatPath(path: PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join('');
}

/**
 * YAML reads ` #` as a comment, so `run: sleep #{Pause}` silently loses `#{Pause}`. A comment that
 * starts with `{` is almost surely such a variable: refuse it and name the line to quote.
 */
function swallowedVariables(text: string, lines: LineCounter): string[] {
  const problems: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const token = node as { type?: string; source?: string; offset?: number };
    if (token.type === 'comment' && token.source?.startsWith('#{') && token.offset !== undefined) {
      const { line } = lines.linePos(token.offset);
      problems.push(
        `line ${line}: "${token.source}" was read as a YAML comment; quote the value that holds it ('…${token.source}…')`,
      );
      return;
    }
    Object.values(node).forEach(visit);
  };
  for (const token of new Parser().parse(text)) visit(token);
  return problems;
}
