/**
 * One user: profile, activation, roles, sessions, MFA state, and the GDPR actions (export, erase) behind a
 * confirmation that asks for the email address.
 */
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { api, call, saveBlob } from '../api/client';
import { t } from '../i18n';
import { NameFields, PhoneField } from '../person-fields';
import { navigate } from '../router';
import { useSession } from '../session';
import {
  Badge,
  Checkbox,
  ConfirmDialog,
  ErrorText,
  Form,
  FormEnd,
  fmtDate,
  fmtRelative,
  Loading,
  PageHeader,
  Panel,
  Select,
  TextArea,
  TextField,
  toast,
  useAsync,
  useSubmit,
  withErrorToast,
} from '../ui';

export function UserDetailScreen({ id }: { id: number }) {
  const session = useSession();
  const user = useAsync(() => call(api.GET('/api/v1/users/{id}', { params: { path: { id } } })), [id]);
  const [confirm, setConfirm] = useState<null | 'deactivate' | 'erase' | 'delete'>(null);
  const [reason, setReason] = useState('');
  const self = session.user?.me.user_id === id;

  if (user.loading && !user.data) return <Loading />;
  if (user.error || !user.data)
    return (
      <div className="page">
        <PageHeader title={t('nav.users')} />
        <ErrorText error={user.error} />
      </div>
    );
  const u = user.data;

  async function setActive(active: boolean) {
    await call(
      active
        ? api.POST('/api/v1/users/{id}/activate', { params: { path: { id } } })
        : api.POST('/api/v1/users/{id}/deactivate', { params: { path: { id } } }),
    );
    toast(active ? t('user.activated') : t('user.deactivated'));
    user.reload();
  }

  function exportData() {
    return withErrorToast(async () => {
      const data = await call(
        api.GET('/api/v1/gdpr/export/{user_id}', { params: { path: { user_id: id } } }),
      );
      saveBlob(
        new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }),
        `user-${id}-export.json`,
      );
      toast(t('user.exported'));
    });
  }

  return (
    <div className="page">
      <p className="crumbs">
        <a
          href="/admin/users"
          onClick={(e) => {
            e.preventDefault();
            navigate('/users');
          }}
        >
          ← {t('nav.users')}
        </a>
      </p>
      <PageHeader
        title={u.full_name || u.email}
        sub={
          <>
            {u.email} ·{' '}
            {u.is_active ? (
              <Badge kind="ok">{t('users.active')}</Badge>
            ) : (
              <Badge kind="muted">{t('users.inactive')}</Badge>
            )}{' '}
            {u.has_mfa ? (
              <Badge kind="ok">{t('user.mfaOn')}</Badge>
            ) : (
              <Badge kind="warn">{t('user.mfaOff')}</Badge>
            )}{' '}
            {u.is_superuser && <Badge kind="info">{t('user.superuser')}</Badge>}
          </>
        }
        actions={
          session.can('users.write') &&
          !self &&
          (u.is_active ? (
            <button type="button" className="btn" onClick={() => setConfirm('deactivate')}>
              {t('user.deactivate')}
            </button>
          ) : (
            <button type="button" className="btn" onClick={() => void withErrorToast(() => setActive(true))}>
              {t('user.activate')}
            </button>
          ))
        }
      />
      <div className="grid2">
        <ProfileCard user={u} editable={session.can('users.write')} onSaved={user.reload} />
        <Panel id="facts-h" title={t('user.facts')}>
          <dl className="facts">
            <dt>{t('user.id')}</dt>
            <dd className="mono-sm">{u.id}</dd>
            <dt>{t('users.created')}</dt>
            <dd>{fmtDate(u.created_at)}</dd>
            <dt>{t('user.lastLogin')}</dt>
            <dd>{fmtDate(u.last_login_at)}</dd>
            <dt>{t('user.passwordChanged')}</dt>
            <dd>{fmtDate(u.password_changed_at)}</dd>
            <dt>{t('user.mfa')}</dt>
            <dd>{u.has_mfa ? t('user.mfaOn') : t('user.mfaOff')}</dd>
          </dl>
        </Panel>
      </div>
      {session.hasFeature('rbac') && session.can('roles.read') && (
        <RolesCard userId={id} canAssign={session.can('roles.assign')} onChange={user.reload} />
      )}
      {session.can('sessions.read') && (
        <UserSessionsCard userId={id} canRevoke={session.can('sessions.revoke')} />
      )}
      {session.can('users.write') && !self && (
        <RecoveryCard userId={id} email={u.email} hasMfa={u.has_mfa} onChange={user.reload} />
      )}
      {session.hasFeature('gdpr') && session.can('gdpr.manage') && (
        <Panel id="gdpr-h" title={t('user.gdpr')} className="panel-danger">
          <p className="hint">{t('user.gdprHint')}</p>
          <div className="actions actions-left">
            <button type="button" className="btn" onClick={() => void exportData()}>
              {t('user.export')}
            </button>
            {!self && (
              <button type="button" className="btn btn-danger" onClick={() => setConfirm('erase')}>
                {t('user.erase')}
              </button>
            )}
            {!self && session.can('users.delete') && (
              <button type="button" className="btn btn-danger" onClick={() => setConfirm('delete')}>
                {t('user.delete')}
              </button>
            )}
          </div>
        </Panel>
      )}
      <ConfirmDialog
        open={confirm === 'deactivate'}
        title={t('user.deactivate')}
        body={<p>{t('user.deactivateBody', { email: u.email })}</p>}
        action={t('user.deactivate')}
        onConfirm={() => setActive(false)}
        onClose={() => setConfirm(null)}
      />
      <ConfirmDialog
        open={confirm === 'erase'}
        title={t('user.erase')}
        body={
          <>
            <p>{t('user.eraseBody', { email: u.email })}</p>
            <TextArea
              label={t('user.eraseReason')}
              hint={t('user.eraseReasonHint')}
              value={reason}
              onChange={setReason}
              rows={3}
            />
          </>
        }
        confirmText={u.email}
        action={t('user.eraseSubmit')}
        onConfirm={async () => {
          await call(
            api.DELETE('/api/v1/gdpr/delete', {
              body: { user_id: id, reason: reason.trim(), confirm: true },
            }),
          );
          toast(t('user.erased'));
          setReason('');
          user.reload();
        }}
        onClose={() => setConfirm(null)}
      />
      <ConfirmDialog
        open={confirm === 'delete'}
        title={t('user.delete')}
        body={<p>{t('user.deleteBody', { email: u.email })}</p>}
        confirmText={u.email}
        action={t('user.delete')}
        onConfirm={async () => {
          await call(api.DELETE('/api/v1/users/{id}', { params: { path: { id } } }));
          toast(t('user.deleted'));
          navigate('/users');
        }}
        onClose={() => setConfirm(null)}
      />
    </div>
  );
}

type FullUser = NonNullable<Awaited<ReturnType<typeof loadUser>>>;
function loadUser(id: number) {
  return call(api.GET('/api/v1/users/{id}', { params: { path: { id } } }));
}

function ProfileCard({
  user,
  editable,
  onSaved,
}: {
  user: FullUser;
  editable: boolean;
  onSaved: () => void;
}) {
  // `values`: filled again when the record is reloaded after saving (the API returns it normalised).
  const { register, handleSubmit } = useForm({
    values: {
      first: user.first_name ?? '',
      last: user.last_name ?? '',
      email: user.email,
      phone: user.phone ?? '',
      verified: user.is_verified,
    },
  });
  const { busy, error, submit } = useSubmit();
  return (
    <Panel id="profile-h" title={t('user.profile')}>
      <Form
        className="stack"
        error={error}
        onSubmit={handleSubmit(({ first, last, phone, email, verified }) =>
          submit(async () => {
            await call(
              api.PUT('/api/v1/users/{id}', {
                params: { path: { id: user.id } },
                body: {
                  first_name: first.trim() || null,
                  last_name: last.trim() || null,
                  phone: phone.trim() || null,
                  email,
                  is_verified: verified,
                },
              }),
            );
            toast(t('common.saved'));
            onSaved();
          }),
        )}
      >
        <NameFields register={register} disabled={!editable} />
        <TextField
          label={t('users.email')}
          type="email"
          field="email"
          reg={register('email')}
          disabled={!editable}
          required
        />
        <PhoneField reg={register('phone')} disabled={!editable} />
        <Checkbox label={t('user.verified')} reg={register('verified')} disabled={!editable} />
        <FormEnd error={error} busy={busy} label={t('common.save')} hideButton={!editable} />
      </Form>
    </Panel>
  );
}

function RolesCard({
  userId,
  canAssign,
  onChange,
}: {
  userId: number;
  canAssign: boolean;
  onChange: () => void;
}) {
  const assigned = useAsync(
    () => call(api.GET('/api/v1/users/{id}/roles', { params: { path: { id: userId } } })),
    [userId],
  );
  const roles = useAsync(() => call(api.GET('/api/v1/roles')), []);
  const [pick, setPick] = useState('');
  const { error, submit, onClick } = useSubmit();
  const have = new Set(assigned.data?.roles.map((r) => r.role_id));
  const options = (roles.data?.roles ?? []).filter((r) => !have.has(r.id));

  return (
    <Panel id="roles-h" title={t('nav.roles')}>
      <ErrorText error={assigned.error ?? roles.error ?? error} />
      <ul className="chips">
        {assigned.data?.roles.map((r) => (
          <li key={r.role_id} className="chip">
            <span>
              {r.name} <span className="mono-sm muted">({r.code})</span>
              {r.expires_at && (
                <span className="muted"> · {t('user.roleUntil', { date: fmtDate(r.expires_at) })}</span>
              )}
            </span>
            {canAssign && (
              <button
                type="button"
                className="btn-icon"
                aria-label={t('user.removeRole', { role: r.name })}
                onClick={onClick(async () => {
                  await call(
                    api.DELETE('/api/v1/users/{id}/roles/{role_id}', {
                      params: { path: { id: userId, role_id: r.role_id } },
                    }),
                  );
                  toast(t('user.roleRemoved', { role: r.name }));
                  assigned.reload();
                  onChange();
                })}
              >
                ×
              </button>
            )}
          </li>
        ))}
        {assigned.data?.roles.length === 0 && <li className="muted">{t('user.noRoles')}</li>}
      </ul>
      {canAssign && options.length > 0 && (
        <form
          className="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            const roleId = pick || options[0]?.id;
            if (!roleId) return;
            await submit(async () => {
              await call(
                api.POST('/api/v1/users/{id}/roles', {
                  params: { path: { id: userId } },
                  body: { role_id: roleId },
                }),
              );
              toast(t('user.roleAdded', { role: options.find((o) => o.id === roleId)?.name ?? '' }));
              setPick('');
              assigned.reload();
              onChange();
            });
          }}
        >
          <Select
            label={t('user.addRole')}
            value={pick || options[0]!.id}
            onChange={setPick}
            options={options.map((r) => ({ value: r.id, label: `${r.name} (${r.code})` }))}
          />
          <button type="submit" className="btn">
            {t('user.assign')}
          </button>
        </form>
      )}
    </Panel>
  );
}

function UserSessionsCard({ userId, canRevoke }: { userId: number; canRevoke: boolean }) {
  const list = useAsync(
    () => call(api.GET('/api/v1/users/{id}/sessions', { params: { path: { id: userId } } })),
    [userId],
  );
  const [ending, setEnding] = useState<'all' | { id: string; device: string } | null>(null);
  const active = list.data?.sessions.filter((s) => s.is_active) ?? [];
  const device = (s: { browser?: string | null; os?: string | null }) =>
    [s.browser, s.os].filter(Boolean).join(' · ') || t('sessions.unknownDevice');
  return (
    <section className="panel" aria-labelledby="usess-h">
      <div className="panel-head">
        <h2 id="usess-h">{t('user.sessions')}</h2>
        {canRevoke && active.length > 0 && (
          <button type="button" className="btn btn-small" onClick={() => setEnding('all')}>
            {t('user.endAllSessions')}
          </button>
        )}
      </div>
      <ErrorText error={list.error} />
      {list.data && active.length === 0 && <p className="muted">{t('sessions.none')}</p>}
      {active.length > 0 && (
        <ul className="list">
          {active.map((s) => (
            <li key={s.id}>
              <strong>{device(s)}</strong>
              <span className="muted">
                {' '}
                {s.ip_address ?? ''} · {t('sessions.lastSeen', { when: fmtRelative(s.last_seen_at) })}
              </span>
              {canRevoke && (
                <button
                  type="button"
                  className="btn btn-small"
                  aria-label={t('user.endSessionNamed', { device: device(s) })}
                  onClick={() => setEnding({ id: s.id, device: device(s) })}
                >
                  {t('user.endSession')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <ConfirmDialog
        open={ending !== null}
        title={ending === 'all' ? t('user.endAllSessions') : t('user.endSession')}
        body={
          <p>
            {ending === 'all'
              ? t('user.endAllBody')
              : ending
                ? t('user.endOneBody', { device: ending.device })
                : ''}
          </p>
        }
        action={ending === 'all' ? t('user.endAllSessions') : t('user.endSession')}
        onConfirm={async () => {
          if (ending === 'all')
            await call(
              api.DELETE('/api/v1/users/{id}/sessions', { params: { path: { id: userId } }, body: {} }),
            );
          else if (ending)
            await call(
              api.DELETE('/api/v1/users/{id}/sessions/{session_id}', {
                params: { path: { id: userId, session_id: ending.id } },
              }),
            );
          toast(ending === 'all' ? t('sessions.endedAll') : t('user.sessionEnded'));
          list.reload();
        }}
        onClose={() => setEnding(null)}
      />
    </section>
  );
}

/**
 * Account recovery by an administrator (issue 20 item 10): a password-reset link mailed to the user, and a reset
 * of their second factors, which the API allows only after the admin's own step-up: the dialog asks for the
 * admin's current code and proves it (POST /mfa/verify) just before the reset.
 */
function RecoveryCard(props: { userId: number; email: string; hasMfa: boolean; onChange: () => void }) {
  const [dialog, setDialog] = useState<'link' | 'mfa' | null>(null);
  const [code, setCode] = useState('');
  return (
    <Panel id="recovery-h" title={t('user.recovery')}>
      <p className="hint">{t('user.recoveryHint')}</p>
      <div className="actions">
        <button type="button" className="btn" onClick={() => setDialog('link')}>
          {t('user.sendResetLink')}
        </button>
        {props.hasMfa && (
          <button
            type="button"
            className="btn btn-danger"
            onClick={() => {
              setCode('');
              setDialog('mfa');
            }}
          >
            {t('user.resetMfa')}
          </button>
        )}
      </div>
      <ConfirmDialog
        open={dialog === 'link'}
        title={t('user.sendResetLink')}
        body={<p>{t('user.sendResetLinkBody', { email: props.email })}</p>}
        action={t('user.sendResetLink')}
        onConfirm={async () => {
          await call(
            api.POST('/api/v1/users/{id}/password-reset', { params: { path: { id: props.userId } } }),
          );
          toast(t('user.resetLinkSent', { email: props.email }));
        }}
        onClose={() => setDialog(null)}
      />
      <ConfirmDialog
        open={dialog === 'mfa'}
        danger
        title={t('user.resetMfa')}
        body={
          <>
            <p>{t('user.resetMfaBody', { email: props.email })}</p>
            <TextField
              label={t('user.yourCode')}
              field="code"
              value={code}
              onChange={setCode}
              inputMode="numeric"
              autoComplete="one-time-code"
            />
          </>
        }
        action={t('user.resetMfa')}
        onConfirm={async () => {
          // The admin's own step-up (5 minutes), then the reset itself.
          if (code.trim()) await call(api.POST('/api/v1/mfa/verify', { body: { code: code.trim() } }));
          await call(api.POST('/api/v1/users/{id}/mfa/reset', { params: { path: { id: props.userId } } }));
          toast(t('user.mfaResetDone', { email: props.email }));
          props.onChange();
        }}
        onClose={() => setDialog(null)}
      />
    </Panel>
  );
}
