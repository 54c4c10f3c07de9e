/** Users: search, filter by state, page through, create. A row opens the user's page. */
import { useEffect, useState } from 'react';
import { api, call } from '../api/client';
import { t } from '../i18n';
import { navigate } from '../router';
import { useSession } from '../session';
import {
  Badge,
  Checkbox,
  Dialog,
  ErrorText,
  fmtDate,
  Loading,
  PageHeader,
  Select,
  TextField,
  toast,
  useAsync,
  useSubmit,
} from '../ui';

const PAGE = 20;

export function UsersScreen() {
  const session = useSession();
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [state, setState] = useState<'all' | 'active' | 'inactive'>('all');
  const [skip, setSkip] = useState(0);
  const [creating, setCreating] = useState(false);

  // Debounced search: one request per pause in typing, not per keystroke.
  useEffect(() => {
    const h = window.setTimeout(() => {
      setQuery(search.trim());
      setSkip(0);
    }, 300);
    return () => window.clearTimeout(h);
  }, [search]);

  const list = useAsync(
    () =>
      call(
        api.GET('/api/v1/users', {
          params: {
            query: {
              skip,
              limit: PAGE,
              ...(query ? { search: query } : {}),
              ...(state === 'all' ? {} : { is_active: state === 'active' }),
            },
          },
        }),
      ),
    [query, state, skip],
  );

  return (
    <div className="page">
      <PageHeader
        title={t('nav.users')}
        sub={list.data ? t('users.total', { n: list.data.total }) : undefined}
        actions={
          session.can('users.write') && (
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              {t('users.create')}
            </button>
          )
        }
      />
      <div className="filters">
        <TextField
          label={t('users.search')}
          type="search"
          value={search}
          onChange={setSearch}
          name="search"
        />
        <Select
          label={t('users.state')}
          value={state}
          onChange={(v) => {
            setState(v);
            setSkip(0);
          }}
          options={[
            { value: 'all', label: t('users.stateAll') },
            { value: 'active', label: t('users.stateActive') },
            { value: 'inactive', label: t('users.stateInactive') },
          ]}
        />
      </div>
      <ErrorText error={list.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">{t('nav.users')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('users.name')}</th>
                  <th scope="col" className="hide-sm">
                    {t('users.email')}
                  </th>
                  <th scope="col">{t('users.status')}</th>
                  <th scope="col" className="hide-sm">
                    {t('users.created')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.users.map((u) => (
                  <tr key={u.id}>
                    <td>
                      <a
                        href={`/admin/users/${u.id}`}
                        onClick={(e) => {
                          e.preventDefault();
                          navigate(`/users/${u.id}`);
                        }}
                      >
                        {u.full_name || u.email}
                      </a>
                      {u.full_name && <div className="show-sm muted small">{u.email}</div>}
                    </td>
                    <td className="mono-sm hide-sm">{u.email}</td>
                    <td>
                      {u.is_active ? (
                        <Badge kind="ok">{t('users.active')}</Badge>
                      ) : (
                        <Badge kind="muted">{t('users.inactive')}</Badge>
                      )}{' '}
                      {!u.is_verified && <Badge kind="warn">{t('users.unverified')}</Badge>}
                    </td>
                    <td className="hide-sm">{fmtDate(u.created_at)}</td>
                  </tr>
                ))}
                {list.data.users.length === 0 && (
                  <tr>
                    <td colSpan={4} className="empty">
                      {t('users.none')}
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
          <div className="pager">
            <button
              type="button"
              className="btn"
              disabled={skip === 0}
              onClick={() => setSkip(Math.max(0, skip - PAGE))}
            >
              {t('common.previous')}
            </button>
            <span>
              {list.data.total === 0
                ? '0'
                : t('common.range', {
                    from: skip + 1,
                    to: Math.min(skip + PAGE, list.data.total),
                    total: list.data.total,
                  })}
            </span>
            <button
              type="button"
              className="btn"
              disabled={skip + PAGE >= list.data.total}
              onClick={() => setSkip(skip + PAGE)}
            >
              {t('common.next')}
            </button>
          </div>
        </>
      )}
      <CreateUserDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(id) => {
          setCreating(false);
          navigate(`/users/${id}`);
        }}
      />
    </div>
  );
}

function CreateUserDialog(props: { open: boolean; onClose: () => void; onCreated: (id: number) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [first, setFirst] = useState('');
  const [last, setLast] = useState('');
  const [verified, setVerified] = useState(true);
  const { busy, error, setError, submit } = useSubmit();
  useEffect(() => {
    if (props.open) {
      setEmail('');
      setPassword('');
      setFirst('');
      setLast('');
      setVerified(true);
      setError(null);
    }
  }, [props.open, setError]);
  return (
    <Dialog open={props.open} title={t('users.create')} onClose={props.onClose}>
      <form
        className="stack"
        onSubmit={async (e) => {
          e.preventDefault();
          await submit(async () => {
            const u = await call(
              api.POST('/api/v1/users', {
                body: {
                  email,
                  password,
                  first_name: first.trim() || null,
                  last_name: last.trim() || null,
                  is_verified: verified,
                },
              }),
            );
            toast(t('users.created.toast', { email: u.email }));
            props.onCreated(u.id);
          });
        }}
      >
        <TextField
          label={t('users.email')}
          type="email"
          value={email}
          onChange={setEmail}
          required
          autoFocus
        />
        <div className="row2">
          <TextField label={t('users.firstName')} value={first} onChange={setFirst} maxLength={100} />
          <TextField label={t('users.lastName')} value={last} onChange={setLast} maxLength={100} />
        </div>
        <TextField
          label={t('users.initialPassword')}
          hint={t('users.passwordHint')}
          type="password"
          value={password}
          onChange={setPassword}
          required
          autoComplete="new-password"
        />
        <Checkbox label={t('users.markVerified')} checked={verified} onChange={setVerified} />
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" className="btn" onClick={props.onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {t('users.createSubmit')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
