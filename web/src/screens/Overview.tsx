/**
 * Overview: counts the administrator can act on. Every number comes from the API: the users total, the
 * caller's active sessions, failed sign-ins of the last 7 days (counted from the audit log) and WireGuard peers
 * with a handshake in the last 3 minutes.
 */
import { api, call } from '../api/client';
import { t, tn, useLocale } from '../i18n';
import { navigate } from '../router';
import { useSession } from '../session';
import { ErrorText, Loading, PageHeader, Panel, useAsync } from '../ui';

const DAY = 86_400_000;
/** WireGuard re-handshakes every 2 minutes while traffic flows; 3 minutes without one means gone. */
export const ONLINE_WINDOW_MS = 180_000;

function Card({
  label,
  value,
  to,
  sub,
}: {
  label: string;
  value: string | number;
  to?: string;
  sub?: string;
}) {
  const body = (
    <>
      <span className="card-label">{label}</span>
      <span className="card-value">{value}</span>
      {sub && <span className="card-sub">{sub}</span>}
    </>
  );
  return to ? (
    <a
      className="card card-link"
      href={`/admin${to}`}
      onClick={(e) => {
        e.preventDefault();
        navigate(to);
      }}
    >
      {body}
    </a>
  ) : (
    <div className="card">{body}</div>
  );
}

/** The last 7 days (today included) in local time, oldest first. */
function lastSevenDays(): Date[] {
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  return Array.from({ length: 7 }, (_, i) => new Date(today.getTime() - (6 - i) * DAY));
}

async function failedLogins(): Promise<{ days: Date[]; counts: number[]; truncated: boolean }> {
  const days = lastSevenDays();
  const counts = days.map(() => 0);
  let cursor: string | undefined;
  let pages = 0;
  // Bounded: 10 pages of 500 records. Past that the chart says it is truncated rather than loop.
  do {
    const page = await call(
      api.GET('/api/v1/audit/logs', {
        params: {
          query: { event_type: 'auth.login_failed', from: days[0]!.toISOString(), limit: 500, cursor },
        },
      }),
    );
    for (const item of page.items) {
      const at = new Date(item.created_at).getTime();
      const i = Math.floor((at - days[0]!.getTime()) / DAY);
      if (i >= 0 && i < 7) counts[i]! += 1;
    }
    cursor = page.next_cursor ?? undefined;
    pages++;
  } while (cursor && pages < 10);
  return { days, counts, truncated: Boolean(cursor) };
}

function BarChart({ days, counts }: { days: Date[]; counts: number[] }) {
  const locale = useLocale();
  const max = Math.max(1, ...counts);
  const w = 560;
  const h = 180;
  const pad = { top: 16, bottom: 28, left: 8, right: 8 };
  const bw = (w - pad.left - pad.right) / counts.length;
  const fmt = new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', {
    weekday: 'short',
    day: 'numeric',
  });
  const total = counts.reduce((a, b) => a + b, 0);
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${w} ${h}`}
        role="img"
        aria-labelledby="chart-title chart-desc"
        className="chart-svg"
      >
        <title id="chart-title">{t('overview.failedChart')}</title>
        <desc id="chart-desc">{days.map((d, i) => `${fmt.format(d)}: ${counts[i]}`).join(', ')}</desc>
        <line
          x1={pad.left}
          x2={w - pad.right}
          y1={h - pad.bottom}
          y2={h - pad.bottom}
          className="chart-axis"
        />
        {counts.map((c, i) => {
          const bh = ((h - pad.top - pad.bottom) * c) / max;
          const x = pad.left + i * bw + bw * 0.18;
          const y = h - pad.bottom - bh;
          return (
            <g key={days[i]!.toISOString()}>
              <rect
                x={x}
                y={y}
                width={bw * 0.64}
                height={Math.max(bh, c > 0 ? 2 : 0)}
                rx={3}
                className="chart-bar"
              />
              <text x={x + bw * 0.32} y={y - 4} textAnchor="middle" className="chart-value">
                {c}
              </text>
              <text x={x + bw * 0.32} y={h - 8} textAnchor="middle" className="chart-label">
                {fmt.format(days[i]!)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>{tn('overview.failedTotal', total)}</figcaption>
    </figure>
  );
}

export function OverviewScreen() {
  const session = useSession();
  const canUsers = session.can('users.read');
  const canAudit = session.can('audit.read') && session.hasFeature('audit');
  const canWg = session.can('wireguard.read') && session.hasFeature('wireguard');

  const users = useAsync(
    () =>
      canUsers ? call(api.GET('/api/v1/users', { params: { query: { limit: 1 } } })) : Promise.resolve(null),
    [canUsers],
  );
  const sessions = useAsync(() => call(api.GET('/api/v1/sessions')), []);
  const failed = useAsync(() => (canAudit ? failedLogins() : Promise.resolve(null)), [canAudit]);
  const peers = useAsync(
    () =>
      canWg
        ? call(api.GET('/api/v1/wireguard/peers', { params: { query: { limit: 500 } } }))
        : Promise.resolve(null),
    [canWg],
  );
  const online = peers.data
    ? peers.data.peers.filter(
        (p) =>
          p.enabled &&
          !p.revoked_at &&
          p.last_handshake_at &&
          Date.now() - new Date(p.last_handshake_at).getTime() < ONLINE_WINDOW_MS,
      ).length
    : 0;
  const activePeers = peers.data ? peers.data.peers.filter((p) => p.enabled && !p.revoked_at).length : 0;

  const name = session.user?.tenant?.name;
  return (
    <div className="page">
      <PageHeader
        title={t('nav.overview')}
        sub={name ? t('overview.welcome', { tenant: name }) : undefined}
      />
      <div className="cards">
        {canUsers && (
          <Card label={t('overview.users')} value={users.data ? users.data.total : '…'} to="/users" />
        )}
        <Card
          label={t('overview.mySessions')}
          value={sessions.data ? sessions.data.active_count : '…'}
          to="/sessions"
        />
        {canWg && (
          <Card
            label={t('overview.peersOnline')}
            value={peers.data ? online : '…'}
            sub={peers.data ? t('overview.peersOf', { n: activePeers }) : undefined}
            to="/wireguard"
          />
        )}
      </div>
      <ErrorText error={users.error ?? sessions.error ?? peers.error} />
      {canAudit && (
        <Panel id="failed-h" title={t('overview.failedTitle')}>
          {failed.loading && !failed.data && <Loading />}
          <ErrorText error={failed.error} />
          {failed.data && <BarChart days={failed.data.days} counts={failed.data.counts} />}
          {failed.data?.truncated && <p className="hint">{t('overview.truncated')}</p>}
        </Panel>
      )}
    </div>
  );
}
