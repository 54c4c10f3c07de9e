/** The caller's own sessions: where they are signed in, ending one or all the others. */
import { useState } from 'react';
import { api, call } from '../api/client';
import { t, tn } from '../i18n';
import { Badge, Checkbox, fmtDate, fmtRelative, Loaded, PageHeader, toast, useAsync, useSubmit } from '../ui';

export function SessionsScreen() {
  const [includeInactive, setIncludeInactive] = useState(false);
  const list = useAsync(
    () => call(api.GET('/api/v1/sessions', { params: { query: { include_inactive: includeInactive } } })),
    [includeInactive],
  );
  const { error, onClick } = useSubmit();
  const others = list.data?.sessions.filter((s) => s.is_active && !s.is_current) ?? [];

  return (
    <div className="page">
      <PageHeader
        title={t('nav.sessions')}
        sub={list.data ? tn('sessions.active', list.data.active_count) : undefined}
        actions={
          others.length > 0 && (
            <button
              type="button"
              className="btn"
              onClick={onClick(async () => {
                await call(api.DELETE('/api/v1/sessions', { body: {} }));
                toast(t('sessions.endedOthers'));
                list.reload();
              })}
            >
              {t('sessions.endOthers')}
            </button>
          )
        }
      />
      <div className="filters">
        <Checkbox label={t('sessions.showEnded')} checked={includeInactive} onChange={setIncludeInactive} />
      </div>
      <Loaded load={list} error={list.error ?? error}>
        {(data) => (
          <ul className="session-list">
            {data.sessions.map((s) => (
              <li key={s.id} className="session">
                <div>
                  <p className="session-device">
                    <strong>
                      {[s.browser, s.os].filter(Boolean).join(' · ') || t('sessions.unknownDevice')}
                    </strong>{' '}
                    {s.is_current && <Badge kind="info">{t('sessions.current')}</Badge>}{' '}
                    {!s.is_active && <Badge kind="muted">{t('sessions.ended')}</Badge>}
                  </p>
                  <p className="muted small">
                    {s.ip_address ?? '—'} · {t('sessions.started', { when: fmtDate(s.created_at) })} ·{' '}
                    {t('sessions.lastSeen', { when: fmtRelative(s.last_seen_at) })}
                  </p>
                </div>
                {s.is_active && !s.is_current && (
                  <button
                    type="button"
                    className="btn btn-small"
                    onClick={onClick(async () => {
                      await call(api.DELETE('/api/v1/sessions/{id}', { params: { path: { id: s.id } } }));
                      toast(t('sessions.endedOne'));
                      list.reload();
                    })}
                  >
                    {t('sessions.end')}
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Loaded>
    </div>
  );
}
