import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';

const TYPES = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
} as const;
type Asset = keyof typeof TYPES;
/** Own names only: `constructor` is in every object, and is no asset. */
const isAsset = (name: string): name is Asset => Object.hasOwn(TYPES, name);

const files = Object.fromEntries(
  (Object.keys(TYPES) as Asset[]).map((name) => {
    const body = readFileSync(new URL(`./assets/${name}`, import.meta.url));
    return [name, { body, version: createHash('sha256').update(body).digest('hex').slice(0, 10) }];
  }),
) as Record<Asset, { body: Buffer; version: string }>;

/** The asset's URL with its content hash, so it can be cached for long and still never be stale. */
export const assetUrl = (name: Asset) => `/assets/${name}?v=${files[name].version}`;

/** The dashboard's own script, styles and icon: served by the app, never from a CDN. */
export function assetRoutes() {
  return new Hono().get('/assets/:name', (c) => {
    const name = c.req.param('name');
    if (!isAsset(name)) return c.notFound();
    const asset = files[name];
    return c.body(new Uint8Array(asset.body), 200, {
      'Content-Type': TYPES[name],
      'Cache-Control': c.req.query('v') === asset.version ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  });
}
