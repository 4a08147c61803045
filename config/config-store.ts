import { createHash } from 'node:crypto';
import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ConfigError, parseConfig, readConfigFile, shownPath } from './load.js';
import type { Config } from './schema.js';

/** What `GET /api/admin/config` says of the config in use. */
export interface ConfigStatus {
  /** The file it was read from. */
  source: string;
  /** The sha256 of the file as loaded: compare it with the file on disk. */
  sha256: string;
  loadedAt: string;
  /** The last change that was refused, with every problem, until a later one loads. */
  lastRefusal: { at: string; sha256: string; problems: string[] } | null;
}

export type ReloadResult =
  | { loaded: true; status: ConfigStatus; changed: boolean }
  | { loaded: false; status: ConfigStatus; problems: string[] };

/** A reload in one line (or, refused, a line per problem), for a terminal or a log. */
export function describeReload(result: ReloadResult): string {
  const { source, sha256 } = result.status;
  if (!result.loaded) return `The config change in ${shownPath(source)} was refused; the running config stays:\n${result.problems.map((problem) => `  - ${problem}`).join('\n')}`;
  return result.changed ? `Config reloaded from ${shownPath(source)} (sha256 ${sha256.slice(0, 12)}…)` : `Config in ${shownPath(source)} unchanged`;
}

/** How long the file must be quiet before it is read: an editor writes a file in several steps. */
const SETTLE_MS = 200;

/**
 * The config a running Interlock uses, and its reloads (docs/operations.md): on `SIGHUP` and when
 * the file changes. A new file is validated first; an invalid one is refused with its problems and
 * the running config stays. `config` is the one live object every part was handed: a reload
 * replaces its contents in place, so the API, the dashboard, sign-in and the worker's notifications
 * read the new config from their next request on, while a running deployment keeps the process and
 * variables it started with (its input holds them).
 */
export class ConfigStore {
  readonly config: Config;
  private state: ConfigStatus;
  private readonly listeners: ((result: ReloadResult) => void)[] = [];

  private constructor(config: Config, source: string, sha256: string) {
    this.config = config;
    this.state = { source, sha256, loadedAt: new Date().toISOString(), lastRefusal: null };
  }

  /** Reads and validates the file; throws a ConfigError naming every problem when it cannot be used. */
  static load(file: string): ConfigStore {
    const text = readConfigFile(file);
    return new ConfigStore(parseConfig(text, file), file, sha256Of(text));
  }

  /** A config that is not read from a file (tests, and apps given a config object): reloads keep it. */
  static fixed(config: Config): ConfigStore {
    return new ConfigStore(config, '(given)', sha256Of(JSON.stringify(config)));
  }

  status(): ConfigStatus {
    return { ...this.state };
  }

  /** Called after every reload, loaded or refused. */
  onReload(listener: (result: ReloadResult) => void): void {
    this.listeners.push(listener);
  }

  /** Reads the file again: the new config when it is valid (from the next request on), else the problems, and the running one stays. */
  reload(): ReloadResult {
    const at = new Date().toISOString();
    let result: ReloadResult;
    if (this.state.source === '(given)') {
      result = { loaded: true, status: this.status(), changed: false };
    } else {
      let text = '';
      try {
        text = readConfigFile(this.state.source);
        const next = parseConfig(text, this.state.source);
        const sha256 = sha256Of(text);
        const changed = sha256 !== this.state.sha256;
        if (changed) replaceContents(this.config, next);
        this.state = { ...this.state, sha256, loadedAt: changed ? at : this.state.loadedAt, lastRefusal: null };
        result = { loaded: true, status: this.status(), changed };
      } catch (error) {
        const problems = error instanceof ConfigError ? error.problems : [String(error)];
        this.state = { ...this.state, lastRefusal: { at, sha256: sha256Of(text), problems } };
        result = { loaded: false, status: this.status(), problems };
      }
    }
    for (const listener of this.listeners) listener(result);
    return result;
  }

  /**
   * Reloads whenever the file changes (its folder is watched, so an editor that replaces the file is
   * seen too) and, with `hangUp`, on `SIGHUP`. Returns the function that stops watching.
   */
  watch({ hangUp = true }: { hangUp?: boolean } = {}): () => void {
    if (this.state.source === '(given)') return () => undefined;
    let timer: NodeJS.Timeout | undefined;
    const soon = () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.reload(), SETTLE_MS);
    };
    const name = basename(this.state.source);
    const watcher = watch(dirname(this.state.source), (_event, changed) => {
      if (changed === null || changed === name) soon();
    });
    watcher.unref();
    const onHangUp = () => this.reload();
    if (hangUp) process.on('SIGHUP', onHangUp);
    return () => {
      clearTimeout(timer);
      watcher.close();
      process.off('SIGHUP', onHangUp);
    };
  }
}

const sha256Of = (text: string) => createHash('sha256').update(text).digest('hex');

/** `target` becomes `next`, key by key, keeping its identity: whoever holds it reads the new one. */
function replaceContents(target: Config, next: Config): void {
  const live = target as unknown as Record<string, unknown>;
  for (const key of Object.keys(live)) if (!(key in next)) delete live[key];
  Object.assign(live, next);
}
