import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SearchAttributeType } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_SERVER_VERSION } from '../../temporal/cluster-binaries.js';
import { DYNAMIC_CONFIG } from '../../temporal/cluster.js';
import { searchAttributes } from '../../workflows/messages.js';

// There is no Docker engine where the tests run, so this checks the file's shape, not that it starts.
const COMPOSE_FILE = fileURLToPath(new URL('../../docker-compose.temporal.yml', import.meta.url));

interface Service {
  image?: string;
  ports?: (string | { published?: string | number; target?: number })[];
  environment?: Record<string, string> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
  entrypoint?: string | string[];
  command?: string | string[];
  volumes?: (string | { source?: string })[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  configs?: Record<string, { content?: string }>;
}

const compose = parse(readFileSync(COMPOSE_FILE, 'utf8')) as Compose;
const services = compose.services;

/** The names the `temporal` CLI's `--type` takes. */
const CLI_TYPE: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

const environmentOf = (service: Service): Record<string, string> =>
  Array.isArray(service.environment)
    ? Object.fromEntries(service.environment.map((entry) => entry.split(/=(.*)/s).slice(0, 2) as [string, string]))
    : Object.fromEntries(Object.entries(service.environment ?? {}).map(([key, value]) => [key, String(value)]));

const dependenciesOf = (service: Service): string[] =>
  Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});

const scriptOf = (service: Service): string =>
  [service.entrypoint, service.command].flat().filter((part) => typeof part === 'string').join('\n');

/** `host:container` mappings, whatever syntax the file uses. */
const publishedPorts = (service: Service): string[] =>
  (service.ports ?? []).map((port) => (typeof port === 'string' ? port : `${port.published}:${port.target}`));

/** The service that runs `temporal operator search-attribute create`. */
const registration = Object.entries(services).find(([, service]) => scriptOf(service).includes('search-attribute create'));

describe('docker-compose.temporal.yml', () => {
  it('has postgres, temporal, temporal-ui and a search-attribute registration service', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'temporal', 'temporal-ui']));
    expect(registration).toBeDefined();
    expect(registration![1].image).toMatch(/^temporalio\/admin-tools:/);
  });

  it.each(Object.entries(services))('%s pins its image to a tag that is not latest', (_name, service) => {
    expect(service.image).toBeDefined();
    const [repository, tag] = service.image!.split(/:(?=[^/]+$)/);
    expect(repository).toBeTruthy();
    expect(tag, `${service.image} has no tag`).toBeTruthy();
    expect(tag).not.toMatch(/latest/i);
    // A bare major (postgres:16) moves under you; a pinned tag names at least major.minor.
    expect(tag).toMatch(/^\d+\.\d+/);
  });

  it('pins the versions npm run cluster runs (temporal/cluster-binaries.ts)', () => {
    expect(services.temporal!.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    expect(services['temporal-ui']!.image).toBe(`temporalio/ui:${TEMPORAL_UI_SERVER_VERSION}`);
    expect(registration![1].image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
  });

  it('publishes the Temporal frontend on 7233 and Temporal Web on 8233', () => {
    expect(publishedPorts(services.temporal!)).toContain('7233:7233');
    expect(publishedPorts(services['temporal-ui']!)).toContain('8233:8080');
  });

  it('runs the server on PostgreSQL with the settings its image reads', () => {
    const temporal = services.temporal!;
    expect(temporal.image).toMatch(/^temporalio\/server:/);
    const env = environmentOf(temporal);
    expect(env).toMatchObject({ DB: 'postgres12', DB_PORT: '5432', POSTGRES_SEEDS: 'postgres' });
    const postgres = environmentOf(services.postgres!);
    expect(env.POSTGRES_USER).toBe(postgres.POSTGRES_USER);
    expect(env.POSTGRES_PWD).toBe(postgres.POSTGRES_PASSWORD);
    expect(services.temporal!.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    expect(services.postgres!.healthcheck?.test).toBeDefined();
  });

  it("sets up and upgrades both databases' schemas with the server's SQL tool before the server starts, as npm run cluster does", () => {
    const [name, schema] = Object.entries(services).find(([, service]) => scriptOf(service).includes('temporal-sql-tool'))!;
    expect(schema.image).toMatch(/^temporalio\/admin-tools:/);
    expect(schema.image!.split(':')[1]).toBe(services.temporal!.image!.split(':')[1]);
    expect(services.temporal!.depends_on).toMatchObject({ [name]: { condition: 'service_completed_successfully' } });
    const env = environmentOf(schema);
    expect(env).toMatchObject({ SQL_PLUGIN: 'postgres12', SQL_HOST: 'postgres', SQL_USER: environmentOf(services.postgres!).POSTGRES_USER });
    const script = scriptOf(schema);
    for (const [database, embedded] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']]) {
      const steps = ['create-database', 'setup-schema -v 0.0', `update-schema --schema-name postgresql/v12/${embedded}`].map((step) =>
        script.indexOf(`--db ${database} ${step}`),
      );
      expect(steps.every((at) => at >= 0), `${database}: ${steps}`).toBe(true);
      expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    }
  });

  it('keeps the database in a named volume', () => {
    const mounts = (services.postgres!.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0] : v.source));
    const named = mounts.filter((source): source is string => source !== undefined && source in (compose.volumes ?? {}));
    expect(named).toHaveLength(1);
  });

  it('points Temporal Web and the registration at the server', () => {
    expect(environmentOf(services['temporal-ui']!).TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(dependenciesOf(services['temporal-ui']!)).toContain('temporal');
    const [, service] = registration!;
    expect(environmentOf(service).TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(dependenciesOf(service)).toContain('temporal');
  });

  it('waits for the server, creates the default namespace when missing, and waits for it before registering', () => {
    const script = scriptOf(registration![1]);
    expect(script.indexOf('namespace describe --namespace default')).toBeGreaterThan(-1);
    expect(script.indexOf('namespace create --namespace default')).toBeGreaterThan(script.indexOf('namespace describe'));
    expect(script.lastIndexOf('namespace describe')).toBeLessThan(script.indexOf('search-attribute create'));
  });

  it.each(Object.values(searchAttributes).map((key) => [key.name, CLI_TYPE[key.type]] as const))(
    'registers %s as %s in the default namespace',
    (name, type) => {
      const script = scriptOf(registration![1]);
      const creates = [...script.matchAll(/search-attribute create --namespace (\S+) --name (\S+) --type (\S+)/g)];
      expect(creates.filter(([, , created]) => created === name).map(([, namespace, , t]) => [namespace, t])).toEqual([['default', type]]);
    },
  );

  it("gives the server npm run cluster's dynamic settings (updates on, visibility at 200 calls a second)", () => {
    expect(parse(compose.configs?.['temporal-dynamic-config']?.content ?? '')).toEqual(DYNAMIC_CONFIG);
    expect(DYNAMIC_CONFIG['frontend.namespaceRPS.visibility']).toEqual([{ value: 200 }]);
  });

  it('registers nothing that workflows/messages.ts does not define', () => {
    const defined = new Set(Object.values(searchAttributes).map((key) => key.name));
    const created = [...scriptOf(registration![1]).matchAll(/--name (\S+)/g)].map(([, name]) => name);
    expect(created.filter((name) => !defined.has(name!))).toEqual([]);
  });
});
