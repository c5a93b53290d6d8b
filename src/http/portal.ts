import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Clock } from '../shared/clock.js';

export interface PortalOptions {
  /** The folder `vite build` wrote the portal to. */
  dir: string;
  clock: Clock;
  /** Served over HTTPS (directly or behind a proxy): browsers may upgrade every request. */
  secure: boolean;
}

/** `dist/portal` of this package, whether the server runs from `src` (tsx) or from `dist`. */
export const DEFAULT_PORTAL_DIR = fileURLToPath(new URL('../../dist/portal', import.meta.url));

/**
 * Paths the portal's pages may be opened at. The portal routes with `#/...`; these paths answer
 * its page too, so that a typed or shared link without the `#` still opens the right page.
 */
const CLIENT_ROUTES = [
  '/sign-in',
  '/my-roles',
  '/approvals',
  '/approvals/:id',
  '/groups',
  '/groups/:id',
  '/audit',
  '/account',
];

/**
 * The page's own policy, stricter than the API's: scripts and styles only from the portal's own
 * files, no inline code of any kind, calls only to this origin, and no framing at all.
 */
export function portalCsp(secure: boolean): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    ...(secure ? ['upgrade-insecure-requests'] : []),
  ].join('; ');
}

const SERVER_TIME = /<meta name="elevate-server-time" content="[^"]*"/;

const NOT_BUILT =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Elevate</title></head>' +
  '<body><main><h1>The portal has not been built</h1><p>Run <code>npm run build</code>, then ' +
  'start Elevate again. The API is available under <code>/v1.0</code>.</p></main></body></html>';

/**
 * Serves the single-page portal at `/` and its hashed assets under `/assets/`. The page carries
 * the server's time, in a meta tag and a header that `HEAD /` answers too, so that the portal
 * counts time left from the server's clock rather than trusting the browser's.
 */
export const portalRoutes: FastifyPluginAsync<PortalOptions> = async (app, options) => {
  const indexFile = path.join(options.dir, 'index.html');
  const page = fs.existsSync(indexFile) ? fs.readFileSync(indexFile, 'utf8') : null;
  const csp = portalCsp(options.secure);

  const sendPage = (reply: FastifyReply) => {
    const now = options.clock.now().toISOString();
    const body = page
      ? page.replace(SERVER_TIME, `<meta name="elevate-server-time" content="${now}"`)
      : NOT_BUILT;
    return reply
      .status(page ? 200 : 503)
      .header('elevate-server-time', now)
      .header('content-security-policy', csp)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(body);
  };

  app.get('/', { schema: { hide: true } }, (_request, reply) => sendPage(reply));
  for (const route of CLIENT_ROUTES) {
    app.get(route, { schema: { hide: true } }, (_request, reply) => sendPage(reply));
  }

  const assets = path.join(options.dir, 'assets');
  if (fs.existsSync(assets)) {
    // Asset names carry a hash of their content, so a browser may keep them for good.
    await app.register(fastifyStatic, {
      root: assets,
      prefix: '/assets/',
      decorateReply: false,
      immutable: true,
      maxAge: '365d',
      schemaHide: true,
    });
  }
};
