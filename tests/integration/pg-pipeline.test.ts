/**
 * Issue 23 item 8: the `pg` behaviour src/platform/db/pg-pipeline.ts relies on, pinned against a real PostgreSQL
 * server, so that an upgrade of `pg` that changes any of it fails here rather than in readTenant in production.
 * The adapter speaks pg's wire-protocol internals (`pg/lib/utils.js`, the connection's parse/bind/…, the
 * submittable protocol of `client.query`); the embedded backend (PGlite) has no `pg` connection at all, so the
 * file runs only where DATABASE_URL names a PostgreSQL server (the second CI pass).
 */
import { createRequire } from 'node:module';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PipelinedStatement,
  pipelinedStatement,
  sendPipeline,
  statementName,
} from '../../src/platform/db/pg-pipeline.js';
import { usingPostgres } from '../helpers/app.js';

type Result = pg.QueryResult<Record<string, unknown>>;

/** A statement and the promise of its result. */
function statement(config: string | pg.QueryConfig, values?: unknown[]) {
  let stmt!: PipelinedStatement;
  const result = new Promise<Result>((resolve, reject) => {
    stmt = pipelinedStatement(config, values, (err, res) =>
      err ? reject(err) : resolve(res as unknown as Result),
    );
  });
  // Rejections are asserted by the tests that expect them; none may go unhandled meanwhile.
  result.catch(() => {});
  return { stmt, result };
}

/** Runs statements as one pipeline on `client`; resolves to each statement's outcome. */
async function pipeline(client: pg.ClientBase, ...specs: [string | pg.QueryConfig, unknown[]?][]) {
  const made = specs.map(([c, v]) => statement(c, v));
  sendPipeline(
    client,
    made.map((m) => m.stmt),
  );
  return Promise.allSettled(made.map((m) => m.result));
}

function value<T>(s: PromiseSettledResult<T>): T {
  if (s.status === 'rejected') throw s.reason;
  return s.value;
}

describe.skipIf(!usingPostgres)(
  'pg internals the pipelined read path relies on (PostgreSQL only: PGlite has no pg connection)',
  () => {
    let client: pg.Client;
    beforeAll(async () => {
      client = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await client.connect();
    });
    afterAll(async () => {
      await client?.end();
    });

    it('pg/lib/utils.js still exports prepareValue, serialising as pg does for client.query', () => {
      const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
        prepareValue: (v: unknown) => unknown;
      };
      expect(typeof prepareValue).toBe('function');
      expect(prepareValue(null)).toBeNull();
      expect(prepareValue(undefined)).toBeNull();
      expect(prepareValue(12)).toBe('12');
      expect(prepareValue(true)).toBe('true');
      expect(prepareValue(Buffer.from('ab'))).toEqual(Buffer.from('ab'));
      expect(prepareValue([1, null, 'x'])).toBe('{"1",NULL,"x"}');
      expect(prepareValue({ a: 1 })).toBe('{"a":1}');
      expect(typeof prepareValue(new Date(0))).toBe('string');
    });

    it('the connection handed to a submittable has the methods and the parsed-statement record used', async () => {
      let seen: Record<string, unknown> | undefined;
      await new Promise<void>((resolve, reject) => {
        const probe = {
          submit(connection: Record<string, unknown>) {
            seen = connection;
            (connection.sync as () => void).call(connection);
            return null;
          },
          handleReadyForQuery: () => resolve(),
          handleError: (err: Error) => reject(err),
        };
        (client as unknown as { query(q: unknown): void }).query(probe);
      });
      for (const m of ['parse', 'bind', 'describe', 'execute', 'sync', 'sendCopyFail'])
        expect(typeof seen?.[m], m).toBe('function');
      expect(typeof seen?.parsedStatements).toBe('object');
      const stream = seen?.stream as { cork?: unknown; uncork?: unknown };
      expect(typeof stream.cork).toBe('function');
      expect(typeof stream.uncork).toBe('function');
    });

    it('statements ending in one Sync run in one transaction, in one exchange, with results in order', async () => {
      const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
      const original = proto.query;
      let exchanges = 0;
      proto.query = function (this: unknown, ...args: unknown[]) {
        exchanges++;
        return original.apply(this, args);
      };
      let out: PromiseSettledResult<Result>[];
      try {
        out = await pipeline(
          client,
          ["select set_config('app.pin', $1, true) as set", ['pinned']],
          ["select current_setting('app.pin') as pin, now()::text as t, txid_current() as x"],
          ["select current_setting('app.pin') as pin, now()::text as t, txid_current() as x"],
        );
      } finally {
        proto.query = original;
      }
      expect(exchanges).toBe(1);
      const [a, b, c] = out.map(value);
      expect(a!.rows).toEqual([{ set: 'pinned' }]);
      expect(b!.rows[0]!.pin).toBe('pinned');
      expect(c!.rows[0]).toEqual(b!.rows[0]);
      // The transaction ended with the Sync: a setting made local to it is gone.
      const after = await client.query("select coalesce(current_setting('app.pin', true), '') as pin");
      expect(after.rows[0]).toEqual({ pin: '' });
    });

    it('rows are parsed as client.query parses them: type parsers, array row mode, parameter serialisation', async () => {
      const when = new Date('2024-02-03T04:05:06.789Z');
      const text =
        'select $1::timestamptz as d, 9007199254740993::int8 as big, $2::jsonb as j, $3::int[] as a, $4::bytea as b';
      const values = [when, { k: [1, 'two'] }, [1, 2, 3], Buffer.from([0, 255])];
      const [objects, arrays] = (
        await pipeline(client, [text, values], [{ text, values, rowMode: 'array' } as pg.QueryConfig])
      ).map(value);
      const direct = await client.query(text, values);
      expect(objects!.rows).toEqual(direct.rows);
      expect(objects!.rows[0]!.d).toEqual(when);
      expect(objects!.rows[0]!.big).toBe('9007199254740993');
      expect(objects!.fields.map((f) => f.name)).toEqual(['d', 'big', 'j', 'a', 'b']);
      expect(arrays!.rows).toEqual([Object.values(direct.rows[0]!)]);
    });

    it('statements are parsed once per connection under a stable name, recorded in parsedStatements', async () => {
      const text = 'select $1::int + 1 as n';
      const name = statementName(text);
      expect(name).toBe(statementName(text));
      expect(name).toMatch(/^mc_[0-9a-f]{24}$/);
      const parsed = (client as unknown as { connection: { parsedStatements: Record<string, string> } })
        .connection.parsedStatements;
      expect(parsed[name]).toBeUndefined();
      expect(value((await pipeline(client, [text, [1]]))[0]!).rows).toEqual([{ n: 2 }]);
      expect(parsed[name]).toBe(text);
      // The second time it is bound, not parsed again: the server knows the name from the first.
      expect(value((await pipeline(client, [text, [41]]))[0]!).rows).toEqual([{ n: 42 }]);
      const server = await client.query('select statement from pg_prepared_statements where name = $1', [
        name,
      ]);
      expect(server.rows).toEqual([{ statement: text }]);
      // pg keeps the record across plain queries.
      await client.query('select 1');
      expect(parsed[name]).toBe(text);
    });

    it('an empty statement counts as one, and the results after it stay in their place', async () => {
      const [a, b, c] = (await pipeline(client, ['select 1 as n'], [''], ['select 3 as n'])).map(
        (s) => s.status,
      );
      expect([a, b, c]).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
      const out = await pipeline(client, ['select 1 as n'], [''], ['select 3 as n']);
      expect(value(out[0]!).rows).toEqual([{ n: 1 }]);
      expect(value(out[2]!).rows).toEqual([{ n: 3 }]);
    });

    it('an error fails every statement of the pipeline, rolls it back, and the connection answers the next one', async () => {
      const out = await pipeline(
        client,
        ["select set_config('app.pin', 'x', true)"],
        ['select 1/0 as boom'],
        ['select 2 as n'],
      );
      expect(out.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
      for (const s of out) expect((s as PromiseRejectedResult).reason).toMatchObject({ code: '22012' });
      const again = await pipeline(client, ["select coalesce(current_setting('app.pin', true), '') as pin"]);
      expect(value(again[0]!).rows).toEqual([{ pin: '' }]);
      expect((await client.query('select 5 as n')).rows).toEqual([{ n: 5 }]);
    });

    it('COPY FROM STDIN is refused without hanging the connection (one more Sync after the CopyFail)', async () => {
      // COPY TO STDOUT: CopyOutResponse and CopyData are dropped, the statement completes with no rows.
      const out = await pipeline(client, ['copy (select 1) to stdout']);
      expect(value(out[0]!).rows).toEqual([]);
      const tmp = `pg_pipeline_copy_${process.pid}`;
      await client.query(`create temp table ${tmp} (n int)`);
      const into = await pipeline(client, [`copy ${tmp} from stdin`]);
      expect(into[0]!.status).toBe('rejected');
      expect(String((into[0] as PromiseRejectedResult).reason)).toMatch(/COPY is not supported/);
      expect((await client.query('select 6 as n')).rows).toEqual([{ n: 6 }]);
    });
  },
);
