/**
 * Webhooks (docs/webhooks.md): the tenant's endpoints, each with its signing secret shown once (at creation and
 * at each rotation), its delivery log, a test event and replays. `webhooks.read` sees endpoints and logs;
 * `webhooks.write` creates, changes, rotates, tests, replays and deletes.
 */
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { api, call } from '../api/client';
import type { paths } from '../api/schema';
import { t } from '../i18n';
import { useSession } from '../session';
import { DataTable, EmptyRow } from '../table';
import {
  Badge,
  ConfirmFor,
  CopyButton,
  FormCheckList,
  FormDialog,
  fmtDate,
  fmtRelative,
  Link,
  Loaded,
  PageHeader,
  ShownOnceDialog,
  TextField,
  toast,
  useAsync,
  withErrorToast,
} from '../ui';

type Endpoint =
  paths['/api/v1/webhooks']['get']['responses'][200]['content']['application/json']['endpoints'][number];
type Delivery =
  paths['/api/v1/webhooks/{id}/deliveries']['get']['responses'][200]['content']['application/json']['deliveries'][number];

function StatusBadge({ e }: { e: Endpoint }) {
  if (!e.enabled) return <Badge kind="bad">{t('hooks.disabled')}</Badge>;
  if (e.failing_since) return <Badge kind="warn">{t('hooks.failing')}</Badge>;
  return <Badge kind="ok">{t('hooks.enabled')}</Badge>;
}

/** The signing secret, shown once, with the copy button and the warning. */
function SecretDialog(props: { secret: { title: string; value: string } | null; onClose: () => void }) {
  return (
    <ShownOnceDialog
      item={props.secret}
      title={(s) => s.title}
      done={t('hooks.secretStored')}
      onClose={props.onClose}
    >
      {(s) => (
        <>
          <p className="notice notice-warn">{t('hooks.secretShownOnce')}</p>
          <div className="secret">
            <code className="secret-value" data-testid="webhook-secret">
              {s.value}
            </code>
            <CopyButton text={s.value} />
          </div>
        </>
      )}
    </ShownOnceDialog>
  );
}

export function WebhooksScreen() {
  const session = useSession();
  const list = useAsync(() => call(api.GET('/api/v1/webhooks')), []);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ title: string; value: string } | null>(null);
  const [deleting, setDeleting] = useState<Endpoint | null>(null);
  const canWrite = session.can('webhooks.write');
  return (
    <div className="page">
      <PageHeader
        title={t('nav.webhooks')}
        sub={t('hooks.sub')}
        actions={
          canWrite && (
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              {t('hooks.create')}
            </button>
          )
        }
      />
      <Loaded load={list}>
        {(data) => (
          <DataTable
            caption={t('nav.webhooks')}
            columns={[
              { label: t('hooks.url') },
              { label: t('hooks.events'), hideSm: true },
              { label: t('hooks.status') },
              { label: t('hooks.created'), hideSm: true },
              ...(canWrite ? [{ label: t('common.actions'), srOnly: true }] : []),
            ]}
          >
            {data.endpoints.map((e) => (
              <tr key={e.id}>
                <td className="break">
                  <Link to={`/webhooks/${e.id}`}>{e.url}</Link>
                  {e.description && <div className="muted small">{e.description}</div>}
                </td>
                <td className="hide-sm">
                  {e.events.map((ev) => (
                    <code key={ev} className="scope">
                      {ev}
                    </code>
                  ))}
                </td>
                <td>
                  <StatusBadge e={e} />
                </td>
                <td className="hide-sm">{fmtDate(e.created_at)}</td>
                {canWrite && (
                  <td className="cell-actions">
                    <button
                      type="button"
                      className="btn btn-small btn-danger"
                      onClick={() => setDeleting(e)}
                      aria-label={t('hooks.deleteNamed', { url: e.url })}
                    >
                      {t('hooks.delete')}
                    </button>
                  </td>
                )}
              </tr>
            ))}
            {data.endpoints.length === 0 && <EmptyRow colSpan={canWrite ? 5 : 4} text={t('hooks.none')} />}
          </DataTable>
        )}
      </Loaded>
      <CreateEndpointDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(value) => {
          setCreating(false);
          setSecret({ title: t('hooks.createdTitle'), value });
          list.reload();
        }}
      />
      <SecretDialog secret={secret} onClose={() => setSecret(null)} />
      <ConfirmFor
        item={deleting}
        title={t('hooks.delete')}
        body={(e) => t('hooks.deleteBody', { url: e.url })}
        action={t('hooks.delete')}
        onConfirm={async (e) => {
          await call(api.DELETE('/api/v1/webhooks/{id}', { params: { path: { id: e.id } } }));
          toast(t('hooks.deleted'));
          list.reload();
        }}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

function CreateEndpointDialog(props: {
  open: boolean;
  onClose: () => void;
  onCreated: (secret: string) => void;
}) {
  const types = useAsync(
    async () => (props.open ? call(api.GET('/api/v1/webhooks/event-types')) : null),
    [props.open],
  );
  const { register, control, reset, getValues } = useForm({
    defaultValues: { url: '', description: '', events: new Set<string>() as ReadonlySet<string> },
  });
  return (
    <FormDialog
      open={props.open}
      title={t('hooks.create')}
      onClose={props.onClose}
      onOpen={() => reset()}
      onSubmit={async () => {
        const fields = getValues();
        const created = await call(
          api.POST('/api/v1/webhooks', {
            body: {
              url: fields.url.trim(),
              events: [...fields.events].sort(),
              ...(fields.description.trim() ? { description: fields.description.trim() } : {}),
            },
          }),
        );
        props.onCreated(created.secret);
      }}
      submitLabel={t('hooks.createSubmit')}
      wide
    >
      <TextField
        label={t('hooks.url')}
        field="url"
        type="url"
        reg={register('url')}
        required
        maxLength={2048}
        placeholder="https://"
        hint={t('hooks.urlHint')}
        autoFocus
      />
      <TextField
        label={t('hooks.description')}
        field="description"
        reg={register('description')}
        maxLength={500}
      />
      <FormCheckList
        control={control}
        name="events"
        legend={t('hooks.events')}
        hint={t('hooks.eventsHint')}
        items={(types.data?.event_types ?? []).map((ev) => ({ key: ev, label: ev }))}
      />
    </FormDialog>
  );
}

/** One endpoint: its settings, enable/disable, rotation, a test event, and its delivery log with replays. */
export function WebhookScreen({ id }: { id: string }) {
  const session = useSession();
  const endpoint = useAsync(() => call(api.GET('/api/v1/webhooks/{id}', { params: { path: { id } } })), [id]);
  const [pages, setPages] = useState<Delivery[][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const log = useAsync(async () => {
    const first = await call(api.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id } } }));
    setPages([first.deliveries]);
    setCursor(first.next_cursor);
    return first;
  }, [id]);
  const [secret, setSecret] = useState<{ title: string; value: string } | null>(null);
  const [rotating, setRotating] = useState<Endpoint | null>(null);
  const canWrite = session.can('webhooks.write');
  const reload = () => {
    endpoint.reload();
    log.reload();
  };
  const more = async () => {
    if (!cursor) return;
    const next = await call(
      api.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id }, query: { cursor } } }),
    );
    setPages((p) => [...p, next.deliveries]);
    setCursor(next.next_cursor);
  };
  const act = (what: () => Promise<unknown>, done: string) =>
    withErrorToast(async () => {
      await what();
      toast(done);
      reload();
    });
  return (
    <div className="page">
      <Loaded load={endpoint}>
        {(e) => (
          <>
            <PageHeader
              title={t('hooks.endpointTitle')}
              sub={<span className="break">{e.url}</span>}
              actions={
                canWrite && (
                  <>
                    <button
                      type="button"
                      className="btn"
                      disabled={!e.enabled}
                      onClick={() =>
                        act(
                          () => call(api.POST('/api/v1/webhooks/{id}/test', { params: { path: { id } } })),
                          t('hooks.testQueued'),
                        )
                      }
                    >
                      {t('hooks.sendTest')}
                    </button>
                    <button
                      type="button"
                      className="btn"
                      onClick={() =>
                        act(
                          () =>
                            call(
                              api.PATCH('/api/v1/webhooks/{id}', {
                                params: { path: { id } },
                                body: { enabled: !e.enabled },
                              }),
                            ),
                          e.enabled ? t('hooks.disabledToast') : t('hooks.enabledToast'),
                        )
                      }
                    >
                      {e.enabled ? t('hooks.disable') : t('hooks.enable')}
                    </button>
                    <button type="button" className="btn" onClick={() => setRotating(e)}>
                      {t('hooks.rotate')}
                    </button>
                  </>
                )
              }
            />
            <dl className="facts">
              <dt>{t('hooks.status')}</dt>
              <dd>
                <StatusBadge e={e} />
                {e.disabled_reason && <span className="muted small"> {e.disabled_reason}</span>}
                {e.failing_since && (
                  <span className="muted small">
                    {' '}
                    {t('hooks.failingSince', { when: fmtRelative(e.failing_since) })}
                  </span>
                )}
              </dd>
              <dt>{t('hooks.events')}</dt>
              <dd>{e.events.join(', ')}</dd>
              {e.description && (
                <>
                  <dt>{t('hooks.description')}</dt>
                  <dd>{e.description}</dd>
                </>
              )}
              {e.previous_secret_expires_at && (
                <>
                  <dt>{t('hooks.previousSecret')}</dt>
                  <dd>{t('hooks.previousSecretUntil', { date: fmtDate(e.previous_secret_expires_at) })}</dd>
                </>
              )}
            </dl>
          </>
        )}
      </Loaded>
      <h2>{t('hooks.deliveries')}</h2>
      <Loaded load={log}>
        {() => (
          <>
            <DataTable
              caption={t('hooks.deliveries')}
              columns={[
                { label: t('hooks.event') },
                { label: t('hooks.status') },
                { label: t('hooks.attempts'), hideSm: true },
                { label: t('hooks.response'), hideSm: true },
                { label: t('hooks.created') },
                ...(canWrite ? [{ label: t('common.actions'), srOnly: true }] : []),
              ]}
            >
              {pages.flat().map((d) => (
                <tr key={d.id} data-testid={`delivery-${d.event_type}`}>
                  <td>
                    <code className="scope">{d.event_type}</code>
                    <div className="muted small mono-sm break">{d.event_id}</div>
                  </td>
                  <td>
                    <Badge kind={d.status === 'delivered' ? 'ok' : d.status === 'failed' ? 'bad' : 'warn'}>
                      {t(`hooks.delivery.${d.status}`)}
                    </Badge>
                    {d.next_attempt_at && (
                      <div className="muted small">
                        {t('hooks.nextAttempt', { when: fmtDate(d.next_attempt_at) })}
                      </div>
                    )}
                  </td>
                  <td className="hide-sm">{d.attempts}</td>
                  <td className="hide-sm break">
                    {d.response_status ?? d.error ?? '—'}
                    {d.latency_ms !== null && <span className="muted small"> {d.latency_ms} ms</span>}
                  </td>
                  <td>{fmtDate(d.created_at)}</td>
                  {canWrite && (
                    <td className="cell-actions">
                      {d.event_type !== 'webhook.test' && (
                        <button
                          type="button"
                          className="btn btn-small"
                          aria-label={t('hooks.replayNamed', { id: d.event_id })}
                          onClick={() =>
                            act(
                              () =>
                                call(
                                  api.POST('/api/v1/webhooks/{id}/replay', {
                                    params: { path: { id } },
                                    body: { event_id: d.event_id },
                                  }),
                                ),
                              t('hooks.replayed'),
                            )
                          }
                        >
                          {t('hooks.replay')}
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
              {pages.flat().length === 0 && (
                <EmptyRow colSpan={canWrite ? 6 : 5} text={t('hooks.noDeliveries')} />
              )}
            </DataTable>
            {cursor && (
              <button type="button" className="btn" onClick={more}>
                {t('hooks.more')}
              </button>
            )}
          </>
        )}
      </Loaded>
      <p>
        <Link to="/webhooks">{t('hooks.back')}</Link>
      </p>
      <ConfirmFor
        item={rotating}
        title={t('hooks.rotate')}
        body={() => t('hooks.rotateBody')}
        action={t('hooks.rotate')}
        onConfirm={async () => {
          const r = await call(api.POST('/api/v1/webhooks/{id}/secret', { params: { path: { id } } }));
          setSecret({ title: t('hooks.rotatedTitle'), value: r.secret });
          endpoint.reload();
        }}
        onClose={() => setRotating(null)}
      />
      <SecretDialog secret={secret} onClose={() => setSecret(null)} />
    </div>
  );
}
