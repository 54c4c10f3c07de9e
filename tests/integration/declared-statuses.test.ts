/**
 * Declared statuses are true (issue 23 item 2): outside production, an AppError whose status the route does not
 * declare (its errorResponses plus the generic statuses of openapi.ts) answers 500 UNDECLARED_ERROR_STATUS and
 * logs the route and the status; in production the error leaves as it is.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { modules } from '../../src/modules/index.js';
import { defineErrors, platformErrors } from '../../src/platform/http/errors.js';
import { errorResponses } from '../../src/platform/http/schemas.js';
import type { AppModule } from '../../src/platform/module.js';
import { testEnv } from '../helpers/app.js';

const probeErrors = defineErrors({ PROBE_GONE: [410, 'Disparu', 'Gone'] });

/** Two routes declaring 404: one throws a 404 (declared), the other a 410 (not declared). */
const probeModule: AppModule = {
  name: 'probe',
  errors: [probeErrors],
  routes: () => [
    {
      prefix: '/probe',
      plugin: async (app) => {
        const schema = { response: { 200: Type.Object({ ok: Type.Boolean() }), ...errorResponses(404) } };
        app.get('/declared', { schema }, async () => {
          throw platformErrors.error('NOT_FOUND');
        });
        app.get('/undeclared', { schema }, async () => {
          throw probeErrors.error('PROBE_GONE');
        });
      },
    },
  ],
};

async function appFor(env: Config['env'], lines: string[]): Promise<FastifyInstance> {
  // LOG_LEVEL error: the check's line is an error line (tests otherwise log little).
  const config = { ...testEnv({ LOG_LEVEL: 'error' }), env } as Config;
  return buildApp(config, {
    migrate: true,
    modules: [...modules, probeModule],
    logStream: { write: (line: string) => void lines.push(line) },
  });
}

describe.each([
  ['test', true],
  ['prod', false],
] as const)('ENV=%s', (env, checked) => {
  const lines: string[] = [];
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await appFor(env, lines);
  }, 180_000);
  afterAll(async () => {
    await app?.close();
  });

  it('a declared status leaves as it is', async () => {
    const res = await app.inject({ method: 'GET', url: '/probe/declared' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toBe('NOT_FOUND');
  });

  it(
    checked ? 'an undeclared status fails loudly (500, logged)' : 'an undeclared status is not checked',
    async () => {
      const res = await app.inject({
        method: 'GET',
        url: '/probe/undeclared',
        headers: { 'accept-language': 'en' },
      });
      if (checked) {
        expect(res.statusCode).toBe(500);
        expect(res.json()).toMatchObject({
          error: 'UNDECLARED_ERROR_STATUS',
          details: { route: 'GET /probe/undeclared', status: 410, code: 'PROBE_GONE' },
        });
        expect(
          lines.some((l) => l.includes('undeclared error status') && l.includes('GET /probe/undeclared')),
        ).toBe(true);
      } else {
        expect(res.statusCode).toBe(410);
        expect(res.json()).toMatchObject({ error: 'PROBE_GONE', message: 'Gone' });
      }
    },
  );
});
