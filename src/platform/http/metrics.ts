/** Prometheus metrics, one registry per app (no global state, so two apps can share a process in tests). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/client.js';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  logins: Counter<'result'>;
  lockouts: Counter;
  /** Requests answered 503 because PostgreSQL or Redis was unreachable, by dependency. */
  dependencyUnavailable: Counter<'dependency'>;
  /** One answered request: counted and timed under its (method, route template, status). */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
}

export function createMetrics(database: Database, withDefaults: boolean): Metrics {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry });
  const pool = new Gauge({
    name: 'massacorp_db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const s = database.poolStats();
      this.set({ state: 'total' }, s.total);
      this.set({ state: 'idle' }, s.idle);
      this.set({ state: 'waiting' }, s.waiting);
    },
  });
  void pool;
  const httpRequests = new Counter({
    name: 'massacorp_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'massacorp_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  // The labelled children per (method, route template, status), so a request does not hash its labels twice.
  // Bounded: methods the HTTP parser accepts × registered route templates (or 'unmatched') × statuses.
  type Child = { inc(): void; observe(v: number): void };
  const children = new Map<string, Child>();
  const child = (method: string, route: string, status: number): Child => {
    const key = `${method} ${status} ${route}`;
    let c = children.get(key);
    if (!c) {
      const labels = { method, route, status: String(status) };
      const counter = httpRequests.labels(labels);
      const histogram = httpDuration.labels(labels);
      c = { inc: () => counter.inc(), observe: (v) => histogram.observe(v) };
      children.set(key, c);
    }
    return c;
  };
  return {
    registry,
    httpRequests,
    httpDuration,
    observeRequest(method, route, status, seconds) {
      const c = child(method, route, status);
      c.inc();
      c.observe(seconds);
    },
    logins: new Counter({
      name: 'massacorp_logins_total',
      help: 'Login attempts by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    lockouts: new Counter({
      name: 'massacorp_lockouts_total',
      help: 'Accounts locked',
      registers: [registry],
    }),
    dependencyUnavailable: new Counter({
      name: 'massacorp_dependency_unavailable_total',
      help: 'Requests answered 503 because a dependency (database, store) was unavailable',
      labelNames: ['dependency'],
      registers: [registry],
    }),
  };
}
