/**
 * The admin console (API.md §18): the single-page app built from web/ into web/dist, served at /admin with
 * @fastify/static, under its own strict CSP. It talks to the public /api/v1 routes only; this plugin serves
 * files and the console's runtime settings (GET /admin/config.json), nothing else.
 *
 * Caching: Vite names every asset under assets/ by its content hash, so those are immutable for a year;
 * index.html (and any other unhashed file) is `no-cache`, so a new build is picked up on the next load.
 * SPA fallback: a GET under /admin that matches no file and accepts text/html gets index.html (the console's
 * own router reads the path); anything else that misses is the usual 404 envelope, never HTML.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { sendError } from './error-handler.js';

/** Exactly the policy of issue 14: no inline script or style, no eval, nothing from another origin. */
export const ADMIN_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const IMMUTABLE = 'public, max-age=31536000, immutable';

function acceptsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /\btext\/html\b/i.test(accept);
}

export interface AdminConsoleOptions {
  /** Names of the feature modules this server runs; the console shows only their screens. */
  features: readonly string[];
}

export function adminConsole(ctx: AppContext, opts: AdminConsoleOptions) {
  const { config } = ctx;
  const root = config.adminConsole.dir;
  return async (app: FastifyInstance) => {
    // The access guard only insists under /api/v1; these routes say what they are anyway.
    app.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), access: 'public' };
      route.schema = { ...(route.schema ?? {}), hide: true };
    });
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header('content-security-policy', ADMIN_CSP);
      return payload;
    });

    const built = existsSync(path.join(root, 'index.html'));
    const sendIndex = (reply: FastifyReply) => {
      if (!built) {
        return sendError(reply.request, reply, 503, 'SERVICE_UNAVAILABLE', {
          reason: 'the admin console is not built: run npm run build (npm start builds it when needed)',
        });
      }
      return reply
        .header('cache-control', 'no-cache')
        .type('text/html; charset=utf-8')
        .sendFile('index.html');
    };

    app.get('/config.json', async (_request, reply) => {
      reply.header('cache-control', 'no-cache');
      return {
        default_tenant: config.adminConsole.defaultTenant,
        locales: [config.defaultLocale, ...(['fr', 'en'] as const).filter((l) => l !== config.defaultLocale)],
        features: [...opts.features],
      };
    });

    if (built) {
      await app.register(fastifyStatic, {
        root,
        prefix: '/',
        // Only the files of the build: never a directory listing, never dot files, no index lookup by folder.
        index: false,
        list: false,
        serveDotFiles: false,
        dotfiles: 'ignore',
        redirect: false,
        cacheControl: false,
        etag: true,
        lastModified: true,
        setHeaders: (res, filePath) => {
          const rel = path.relative(root, filePath).split(path.sep).join('/');
          res.header('cache-control', rel.startsWith('assets/') ? IMMUTABLE : 'no-cache');
        },
      });
    }

    app.get('/', (_request, reply) => sendIndex(reply));

    app.setNotFoundHandler((request, reply) => {
      if ((request.method === 'GET' || request.method === 'HEAD') && acceptsHtml(request)) {
        return sendIndex(reply);
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        reply.header('allow', 'GET, HEAD');
        return sendError(request, reply, 405, 'METHOD_NOT_ALLOWED');
      }
      return sendError(request, reply, 404, 'NOT_FOUND');
    });
  };
}
