/**
 * The audit log: filters, newest first, more pages loaded as the end of the list scrolls into view (cursor
 * pagination), export (NDJSON or CSV, with the same filters), and the hash chain's verification status.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useForm } from 'react-hook-form';
import { api, authedFetch, call, saveBlob } from '../api/client';
import { t, tn } from '../i18n';
import { useSession } from '../session';
import { DataTable, EmptyRow } from '../table';
import {
  Badge,
  ErrorText,
  fmtDate,
  Loading,
  PageHeader,
  Select,
  TextField,
  toast,
  useAsync,
  withErrorToast,
} from '../ui';

type Item = {
  id: number;
  event_type: string;
  actor_type: string;
  actor_id: string | null;
  /** The user's email or the key's name, as the API resolves it now. */
  actor_name: string | null;
  resource_type: string | null;
  resource_id: string | null;
  success: boolean;
  ip_address: string | null;
  created_at: string;
  metadata: Record<string, unknown>;
  request_id: string | null;
};

interface Filters {
  event_type: string;
  /** Who acted: an email, an API key name, `user:<id>`, or an id (the API reads each). */
  actor: string;
  resource_type: string;
  success: '' | 'true' | 'false';
  from: string;
  to: string;
}

const EMPTY: Filters = { event_type: '', actor: '', resource_type: '', success: '', from: '', to: '' };

function toQuery(f: Filters) {
  return {
    ...(f.event_type.trim() ? { event_type: f.event_type.trim() } : {}),
    ...(f.actor.trim() ? { actor: f.actor.trim() } : {}),
    ...(f.resource_type.trim() ? { resource_type: f.resource_type.trim() } : {}),
    ...(f.success ? { success: f.success === 'true' } : {}),
    ...(f.from ? { from: new Date(`${f.from}T00:00:00`).toISOString() } : {}),
    ...(f.to ? { to: new Date(`${f.to}T23:59:59.999`).toISOString() } : {}),
  };
}

export function AuditScreen() {
  const session = useSession();
  // The filters as typed; `filters` is what the listing shows, applied on submit.
  const { register, handleSubmit, reset } = useForm({ defaultValues: EMPTY });
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [items, setItems] = useState<Item[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<number | null>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const generation = useRef(0);
  const verify = useAsync(() => call(api.GET('/api/v1/audit/verify')), []);

  const load = useCallback(
    async (reset: boolean) => {
      const gen = reset ? ++generation.current : generation.current;
      setLoading(true);
      setError(null);
      try {
        const page = await call(
          api.GET('/api/v1/audit/logs', {
            params: { query: { ...toQuery(filters), limit: 50, ...(reset || !cursor ? {} : { cursor }) } },
          }),
        );
        if (gen !== generation.current) return;
        setItems((prev) => (reset ? (page.items as Item[]) : [...prev, ...(page.items as Item[])]));
        setCursor(page.next_cursor);
        setDone(page.next_cursor === null);
      } catch (err) {
        setError(err);
        setDone(true);
      } finally {
        setLoading(false);
      }
    },
    [filters, cursor],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new filter set starts over
  useEffect(() => {
    setItems([]);
    setCursor(null);
    setDone(false);
    void load(true);
  }, [filters]);

  useEffect(() => {
    const el = sentinel.current;
    if (!el || done) return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !loading && cursor) void load(false);
    });
    io.observe(el);
    return () => io.disconnect();
  }, [done, loading, cursor, load]);

  function exportAs(format: 'ndjson' | 'csv') {
    return withErrorToast(async () => {
      const q = new URLSearchParams({ format });
      const { actor, ...rest } = toQuery(filters);
      for (const [k, v] of Object.entries(rest)) q.set(k, String(v));
      // The export filters by actor id only: the listing names the actor the filter means.
      if (actor) q.set('actor_id', (await actorIdOf(actor)) ?? 'none');
      const res = await authedFetch(`/api/v1/audit/logs/export?${q}`);
      saveBlob(await res.blob(), `audit-${new Date().toISOString().slice(0, 10)}.${format}`);
      toast(t('audit.exported'));
    });
  }

  return (
    <div className="page">
      <PageHeader
        title={t('nav.audit')}
        sub={
          verify.data ? (
            verify.data.valid ? (
              <span data-testid="chain-status">
                <Badge kind="ok">{t('audit.chainOk')}</Badge> {tn('audit.checked', verify.data.checked)}
              </span>
            ) : (
              <span data-testid="chain-status">
                <Badge kind="bad">{t('audit.chainBroken')}</Badge>{' '}
                {t('audit.firstInvalid', { id: verify.data.first_invalid_id ?? '?' })}
              </span>
            )
          ) : verify.error ? undefined : (
            t('audit.verifying')
          )
        }
        actions={
          session.can('audit.export') && (
            <>
              <button type="button" className="btn" onClick={() => void exportAs('csv')}>
                {t('audit.exportCsv')}
              </button>
              <button type="button" className="btn" onClick={() => void exportAs('ndjson')}>
                {t('audit.exportNdjson')}
              </button>
            </>
          )
        }
      />
      <form className="filters filters-audit" onSubmit={handleSubmit((draft) => setFilters({ ...draft }))}>
        <TextField label={t('audit.eventType')} reg={register('event_type')} placeholder="user.created" />
        <TextField
          label={t('audit.actor')}
          hint={t('audit.actorHint')}
          reg={register('actor')}
          placeholder="ada@example.com"
        />
        <TextField label={t('audit.resourceType')} reg={register('resource_type')} placeholder="user" />
        <Select
          label={t('audit.outcome')}
          reg={register('success')}
          options={[
            { value: '', label: t('audit.any') },
            { value: 'true', label: t('audit.succeeded') },
            { value: 'false', label: t('audit.failed') },
          ]}
        />
        <TextField label={t('audit.from')} type="date" reg={register('from')} />
        <TextField label={t('audit.to')} type="date" reg={register('to')} />
        <div className="filter-actions">
          <button type="submit" className="btn btn-primary">
            {t('audit.apply')}
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => {
              reset();
              setFilters(EMPTY);
            }}
          >
            {t('audit.reset')}
          </button>
        </div>
      </form>
      <ErrorText error={error ?? verify.error} />
      <DataTable
        caption={t('nav.audit')}
        className="table-audit"
        columns={[
          { label: t('audit.when') },
          { label: t('audit.event') },
          { label: t('audit.actor'), hideSm: true },
          { label: t('audit.resource'), hideSm: true },
          { label: t('audit.outcome') },
        ]}
      >
        {items.map((it) => (
          <AuditRow
            key={it.id}
            item={it}
            open={open === it.id}
            onToggle={() => setOpen(open === it.id ? null : it.id)}
          />
        ))}
        {!loading && items.length === 0 && <EmptyRow colSpan={5} text={t('audit.none')} />}
      </DataTable>
      <div ref={sentinel} className="sentinel">
        {loading && <Loading />}
        {!loading && !done && cursor && (
          <button type="button" className="btn" onClick={() => void load(false)}>
            {t('audit.more')}
          </button>
        )}
        {done && items.length > 0 && <p className="muted small">{tn('audit.end', items.length)}</p>}
      </div>
    </div>
  );
}

/** The id of the first actor the listing finds under this name (an email or key name), for the export. */
async function actorIdOf(actor: string): Promise<string | null> {
  const page = await call(api.GET('/api/v1/audit/logs', { params: { query: { actor, limit: 1 } } }));
  return page.items[0]?.actor_id ?? null;
}

/** An actor as people know them (email, key name), with its kind and id for the record; the system plainly. */
function ActorName({ item }: { item: Item }) {
  const ref = `${item.actor_type}${item.actor_id ? `:${item.actor_id}` : ''}`;
  if (!item.actor_name) return <span className="mono-sm">{ref}</span>;
  return (
    <>
      <span className="break">{item.actor_name}</span> <span className="muted mono-sm">{ref}</span>
    </>
  );
}

function AuditRow({ item, open, onToggle }: { item: Item; open: boolean; onToggle: () => void }) {
  return (
    <>
      <tr className={item.success ? '' : 'row-failed'}>
        <td className="nowrap">{fmtDate(item.created_at)}</td>
        <td>
          <button type="button" className="btn-link mono-sm" aria-expanded={open} onClick={onToggle}>
            {item.event_type}
          </button>
        </td>
        <td className="hide-sm">
          <ActorName item={item} />
        </td>
        <td className="hide-sm mono-sm">
          {item.resource_type ?? '—'}
          {item.resource_id ? `:${item.resource_id}` : ''}
        </td>
        <td>
          {item.success ? (
            <Badge kind="ok">{t('audit.ok')}</Badge>
          ) : (
            <Badge kind="bad">{t('audit.ko')}</Badge>
          )}
        </td>
      </tr>
      {open && (
        <tr className="row-detail">
          <td colSpan={5}>
            <dl className="facts facts-inline">
              <dt>{t('audit.ip')}</dt>
              <dd>{item.ip_address ?? '—'}</dd>
              <dt>{t('audit.requestId')}</dt>
              <dd className="mono-sm">{item.request_id ?? '—'}</dd>
            </dl>
            <pre className="json">{JSON.stringify(item.metadata, null, 2)}</pre>
          </td>
        </tr>
      )}
    </>
  );
}
