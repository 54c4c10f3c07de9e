/** Users: search, filter by state, page through, create. A row opens the user's page. */
import { useEffect, useState } from 'react';
import { api, call } from '../api/client';
import { useFields } from '../form-state';
import { t, tn } from '../i18n';
import { NameFields } from '../person-fields';
import { navigate } from '../router';
import { useSession } from '../session';
import { DataTable, EmptyRow } from '../table';
import {
  Badge,
  Checkbox,
  FormDialog,
  fmtDate,
  Loaded,
  PageHeader,
  PasswordField,
  Select,
  TextField,
  toast,
  useAsync,
} from '../ui';
import { InvitationsPanel, InviteDialog } from './Invitations';

const PAGE = 20;

export function UsersScreen() {
  const session = useSession();
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [state, setState] = useState<'all' | 'active' | 'inactive'>('all');
  const [skip, setSkip] = useState(0);
  const [creating, setCreating] = useState(false);
  const [inviting, setInviting] = useState(false);
  const [invitations, setInvitations] = useState(0);

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
        sub={list.data ? tn('users.total', list.data.total) : undefined}
        actions={
          session.can('users.write') && (
            <>
              {session.hasFeature('invitations') && (
                <button type="button" className="btn" onClick={() => setInviting(true)}>
                  {t('invite.open')}
                </button>
              )}
              <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
                {t('users.create')}
              </button>
            </>
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
      <Loaded load={list}>
        {(data) => (
          <>
            <DataTable
              caption={t('nav.users')}
              columns={[
                { label: t('users.name') },
                { label: t('users.email'), hideSm: true },
                { label: t('users.status') },
                { label: t('users.created'), hideSm: true },
              ]}
            >
              {data.users.map((u) => (
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
              {data.users.length === 0 && <EmptyRow colSpan={4} text={t('users.none')} />}
            </DataTable>
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
                {data.total === 0
                  ? '0'
                  : t('common.range', {
                      from: skip + 1,
                      to: Math.min(skip + PAGE, data.total),
                      total: data.total,
                    })}
              </span>
              <button
                type="button"
                className="btn"
                disabled={skip + PAGE >= data.total}
                onClick={() => setSkip(skip + PAGE)}
              >
                {t('common.next')}
              </button>
            </div>
          </>
        )}
      </Loaded>
      <CreateUserDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(id) => {
          setCreating(false);
          navigate(`/users/${id}`);
        }}
      />
      {session.hasFeature('invitations') && (
        <>
          <InviteDialog
            open={inviting}
            onClose={() => setInviting(false)}
            onInvited={() => {
              setInviting(false);
              setInvitations((v) => v + 1);
            }}
          />
          <InvitationsPanel version={invitations} />
        </>
      )}
    </div>
  );
}

function CreateUserDialog(props: { open: boolean; onClose: () => void; onCreated: (id: number) => void }) {
  const { fields, set, reset } = useFields({ email: '', password: '', first: '', last: '', verified: true });
  const { email, password, first, last, verified } = fields;
  return (
    <FormDialog
      open={props.open}
      title={t('users.create')}
      onClose={props.onClose}
      onOpen={reset}
      onSubmit={async () => {
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
      }}
      submitLabel={t('users.createSubmit')}
    >
      <TextField
        label={t('users.email')}
        field="email"
        type="email"
        value={email}
        onChange={set('email')}
        required
        autoFocus
      />
      <NameFields first={first} last={last} set={set} maxLength={100} />
      <PasswordField
        label={t('users.initialPassword')}
        field="password"
        hint={t('users.passwordHint')}
        value={password}
        onChange={set('password')}
        required
        autoComplete="new-password"
      />
      <Checkbox label={t('users.markVerified')} checked={verified} onChange={set('verified')} />
    </FormDialog>
  );
}
