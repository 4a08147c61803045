import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';

const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Interlock API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <noscript><p>This page needs JavaScript; the raw document is at <a href="/openapi.json">/openapi.json</a>.</p></noscript>
  <div id="docs"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>`;

// In a file of its own, so the content security policy needs no inline script.
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', deepLinking: true, tryItOutEnabled: false });`;

/** `/docs`: the OpenAPI document made readable, with every asset served by Interlock itself (works offline). */
export function docsRoutes() {
  return new Hono()
    .get('/', (c) => c.html(PAGE))
    // One route for every asset: a static path beside a parameter there would cost every request of
    // the app Hono's slower router (its RegExpRouter refuses the pair).
    .get('/assets/:file', async (c) => {
      const file = c.req.param('file');
      if (file === 'init.js') return c.body(INIT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
      // Own names only: `constructor`, `__proto__`, `toString` are in every object, and are no asset.
      if (!Object.hasOwn(ASSETS, file)) return c.notFound();
      return c.body(await readFile(join(swaggerDir, file)), 200, {
        'Content-Type': ASSETS[file]!,
        'Cache-Control': 'public, max-age=86400',
      });
    });
}
