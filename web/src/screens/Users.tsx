/**
 * Users: search, filter by state, sort, page through, create. A row opens the user's page; selected rows can be
 * deactivated or given a role at once (the bulk routes answer per user; refusals are listed).
 */
import { useEffect, useState } from 'react';
import { useForm } from 'react-hook-form';
import { api, call } from '../api/client';
import type { paths } from '../api/schema';
import { useGrantable } from '../grantable';
import { t, tn } from '../i18n';
import { NameFields } from '../person-fields';
import { navigate } from '../router';
import { useSession } from '../session';
import { DataTable, EmptyRow, SelectCell, type Sort, sortParam, useSelection } from '../table';
import {
  Badge,
  Checkbox,
  ConfirmDialog,
  FormDialog,
  fmtDate,
  fmtRelative,
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
  const [sort, setSort] = useState<Sort | null>(null);
  const [bulk, setBulk] = useState<'deactivate' | 'role' | null>(null);
  const [report, setReport] = useState<BulkReport | null>(null);

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
              ...(sort ? { sort: sortParam(sort) as UserSort } : {}),
            },
          },
        }),
      ),
    [query, state, skip, sort],
  );
  const rows = list.data?.users ?? [];
  const selection = useSelection(
    rows.map((u) => u.id),
    [query, state, skip, sort],
  );
  const canSelect = session.can('users.write') || session.can('roles.assign');
  const chosen = rows.filter((u) => selection.selected.has(u.id));
  /** After a bulk change: the list again, the selection gone, and what was refused, per user. */
  const finish = (result: BulkResult) => {
    const email = new Map(rows.map((u) => [u.id, u.email]));
    setReport({
      succeeded: result.succeeded,
      failures: result.results
        .filter((r) => !r.ok)
        .map((r) => ({ who: email.get(r.id) ?? `#${r.id}`, message: r.message ?? r.error ?? '' })),
    });
    toast(tn('users.bulk.done', result.succeeded), result.failed > 0 ? 'error' : 'ok');
    selection.clear();
    list.reload();
  };

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
      {canSelect && selection.selected.size > 0 && (
        <section className="bulk-bar" aria-label={t('users.bulk.region')}>
          <span>{tn('users.selected', selection.selected.size)}</span>
          {session.can('users.write') && (
            <button type="button" className="btn btn-danger" onClick={() => setBulk('deactivate')}>
              {t('users.bulk.deactivate')}
            </button>
          )}
          {session.can('roles.assign') && (
            <button type="button" className="btn" onClick={() => setBulk('role')}>
              {t('users.bulk.assignRole')}
            </button>
          )}
          <button type="button" className="btn" onClick={selection.clear}>
            {t('users.bulk.clear')}
          </button>
        </section>
      )}
      {report && <BulkReportPanel report={report} onClose={() => setReport(null)} />}
      <Loaded load={list}>
        {(data) => (
          <>
            <DataTable
              caption={t('nav.users')}
              sort={sort}
              onSort={(next) => {
                setSort(next);
                setSkip(0);
              }}
              {...(canSelect ? { selection } : {})}
              columns={[
                { label: t('users.name') },
                { label: t('users.email'), hideSm: true, sortKey: 'email' },
                { label: t('users.roles') },
                { label: t('users.mfa') },
                { label: t('users.status') },
                { label: t('users.lastLogin'), sortKey: 'last_login_at' },
                { label: t('users.created'), hideSm: true, sortKey: 'created_at' },
              ]}
            >
              {data.users.map((u) => (
                <tr key={u.id}>
                  {canSelect && <SelectCell selection={selection} id={u.id} label={u.email} />}
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
                  <td>{u.roles.length > 0 ? u.roles.join(', ') : '—'}</td>
                  <td>
                    {u.has_mfa ? (
                      <Badge kind="ok">{t('users.mfaOn')}</Badge>
                    ) : (
                      <Badge kind="muted">{t('users.mfaOff')}</Badge>
                    )}
                  </td>
                  <td>
                    {u.is_active ? (
                      <Badge kind="ok">{t('users.active')}</Badge>
                    ) : (
                      <Badge kind="muted">{t('users.inactive')}</Badge>
                    )}{' '}
                    {!u.is_verified && <Badge kind="warn">{t('users.unverified')}</Badge>}
                  </td>
                  <td>
                    {u.last_login_at ? (
                      <time dateTime={u.last_login_at} title={fmtDate(u.last_login_at)}>
                        {fmtRelative(u.last_login_at)}
                      </time>
                    ) : (
                      t('common.never')
                    )}
                  </td>
                  <td className="hide-sm">{fmtDate(u.created_at)}</td>
                </tr>
              ))}
              {data.users.length === 0 && <EmptyRow colSpan={canSelect ? 8 : 7} text={t('users.none')} />}
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
      <ConfirmDialog
        open={bulk === 'deactivate'}
        title={tn('users.bulk.deactivateTitle', chosen.length)}
        body={
          <>
            <p>{t('users.bulk.deactivateBody')}</p>
            <ul className="bulk-list">
              {chosen.map((u) => (
                <li key={u.id}>{u.email}</li>
              ))}
            </ul>
          </>
        }
        action={t('users.bulk.deactivate')}
        onConfirm={async () => {
          finish(await bulkDeactivate(chosen.map((u) => u.id)));
        }}
        onClose={() => setBulk(null)}
      />
      <AssignRoleDialog
        open={bulk === 'role'}
        userIds={chosen.map((u) => u.id)}
        onClose={() => setBulk(null)}
        onDone={(result) => {
          setBulk(null);
          finish(result);
        }}
      />
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

type UserSort = NonNullable<NonNullable<paths['/api/v1/users']['get']['parameters']['query']>['sort']>;
type BulkResult = Awaited<ReturnType<typeof bulkDeactivate>>;
const bulkDeactivate = (ids: number[]) =>
  call(api.POST('/api/v1/users/bulk/deactivate', { body: { user_ids: ids } }));

interface BulkReport {
  succeeded: number;
  failures: { who: string; message: string }[];
}

/** What the last bulk change did: how many users changed, and each refusal with the API's reason. */
function BulkReportPanel(props: { report: BulkReport; onClose: () => void }) {
  const { failures, succeeded } = props.report;
  return (
    <section className="notice" aria-label={t('users.bulk.report')}>
      <p>
        {tn('users.bulk.done', succeeded)}
        {failures.length > 0 && ` · ${tn('users.bulk.failed', failures.length)}`}
      </p>
      {failures.length > 0 && (
        <ul className="bulk-list">
          {failures.map((f) => (
            <li key={f.who}>{t('users.bulk.failedLine', { user: f.who, message: f.message })}</li>
          ))}
        </ul>
      )}
      <button type="button" className="btn" onClick={props.onClose}>
        {t('common.close')}
      </button>
    </section>
  );
}

/** One role, among those the admin may grant (useGrantable), for every selected user. */
function AssignRoleDialog(props: {
  open: boolean;
  userIds: number[];
  onClose: () => void;
  onDone: (result: BulkResult) => void;
}) {
  const roles = useGrantable(props.open).roles;
  const [roleId, setRoleId] = useState('');
  const chosen = roles.some((r) => r.id === roleId) ? roleId : (roles[0]?.id ?? '');
  return (
    <FormDialog
      open={props.open}
      title={tn('users.bulk.assignTitle', props.userIds.length)}
      onClose={props.onClose}
      onOpen={() => setRoleId('')}
      blocked={!chosen}
      onSubmit={async () => {
        props.onDone(
          await call(
            api.POST('/api/v1/users/bulk/roles', { body: { user_ids: props.userIds, role_id: chosen } }),
          ),
        );
      }}
      submitLabel={t('users.bulk.assignRole')}
    >
      {roles.length === 0 ? (
        <p className="hint">{t('users.bulk.noRole')}</p>
      ) : (
        <Select
          label={t('users.bulk.role')}
          value={chosen}
          onChange={setRoleId}
          options={roles.map((r) => ({ value: r.id, label: r.name }))}
        />
      )}
    </FormDialog>
  );
}

function CreateUserDialog(props: { open: boolean; onClose: () => void; onCreated: (id: number) => void }) {
  const { register, reset, getValues } = useForm({
    defaultValues: { email: '', password: '', first: '', last: '', verified: true },
  });
  return (
    <FormDialog
      open={props.open}
      title={t('users.create')}
      onClose={props.onClose}
      onOpen={() => reset()}
      onSubmit={async () => {
        const { email, password, first, last, verified } = getValues();
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
        reg={register('email')}
        required
        autoFocus
      />
      <NameFields register={register} maxLength={100} />
      <PasswordField
        label={t('users.initialPassword')}
        field="password"
        hint={t('users.passwordHint')}
        reg={register('password')}
        required
        autoComplete="new-password"
      />
      <Checkbox label={t('users.markVerified')} reg={register('verified')} />
    </FormDialog>
  );
}
