/** API keys: list (revoked on demand), create with scopes (the raw key is shown once, with a copy button), revoke. */
import { useState } from 'react';
import { Controller, useForm } from 'react-hook-form';
import { api, call } from '../api/client';
import { useGrantable } from '../grantable';
import { heldPermissions } from '../grants';
import { t, tn } from '../i18n';
import { useSession } from '../session';
import { DataTable, EmptyRow } from '../table';
import {
  Badge,
  Checkbox,
  ConfirmFor,
  CopyButton,
  FormDialog,
  fmtDate,
  fmtRelative,
  Loaded,
  PageHeader,
  Select,
  ShownOnceDialog,
  TextField,
  toast,
  useAsync,
  withMember,
} from '../ui';

type Key = {
  id: number;
  name: string;
  key_prefix: string;
  owner: string;
  scopes: string[];
  is_revoked: boolean;
  is_expired: boolean;
  expires_at: string | null;
  last_used_at: string | null;
  created_at: string;
};

export function ApiKeysScreen() {
  const session = useSession();
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const list = useAsync(
    () =>
      call(
        api.GET('/api/v1/api-keys', { params: { query: { include_revoked: includeRevoked, limit: 100 } } }),
      ),
    [includeRevoked],
  );
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ name: string; raw_key: string } | null>(null);
  const [revoking, setRevoking] = useState<Key | null>(null);
  const canWrite = session.can('api_keys.write');

  return (
    <div className="page">
      <PageHeader
        title={t('nav.apiKeys')}
        sub={list.data ? tn('keys.count', list.data.active_count) : undefined}
        actions={
          canWrite && (
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              {t('keys.create')}
            </button>
          )
        }
      />
      <div className="filters">
        <Checkbox label={t('keys.showRevoked')} checked={includeRevoked} onChange={setIncludeRevoked} />
      </div>
      <Loaded load={list}>
        {(data) => (
          <DataTable
            caption={t('nav.apiKeys')}
            columns={[
              { label: t('keys.name') },
              { label: t('keys.prefix') },
              { label: t('keys.scopes'), hideSm: true },
              { label: t('keys.status') },
              { label: t('keys.lastUsed'), hideSm: true },
              ...(canWrite ? [{ label: t('common.actions'), srOnly: true }] : []),
            ]}
          >
            {data.keys.map((k) => (
              <tr key={k.id}>
                <td>
                  {k.name}
                  {k.owner === 'tenant' && (
                    <>
                      {' '}
                      <Badge kind="info">{t('keys.tenantKey')}</Badge>
                    </>
                  )}
                </td>
                <td className="mono-sm">{k.key_prefix}…</td>
                <td className="hide-sm">
                  {k.scopes.length ? (
                    k.scopes.map((s) => (
                      <code key={s} className="scope">
                        {s}
                      </code>
                    ))
                  ) : (
                    <span className="muted">{t('keys.noScopes')}</span>
                  )}
                </td>
                <td>
                  {k.is_revoked ? (
                    <Badge kind="bad">{t('keys.revoked')}</Badge>
                  ) : k.is_expired ? (
                    <Badge kind="muted">{t('keys.expired')}</Badge>
                  ) : (
                    <Badge kind="ok">{t('keys.active')}</Badge>
                  )}
                  {k.expires_at && !k.is_revoked && (
                    <span className="muted small"> {t('keys.expires', { date: fmtDate(k.expires_at) })}</span>
                  )}
                </td>
                <td className="hide-sm">{fmtRelative(k.last_used_at)}</td>
                {canWrite && (
                  <td className="cell-actions">
                    {!k.is_revoked && (
                      <button
                        type="button"
                        className="btn btn-small btn-danger"
                        onClick={() => setRevoking(k)}
                        aria-label={t('keys.revokeNamed', { name: k.name })}
                      >
                        {t('keys.revoke')}
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
            {data.keys.length === 0 && <EmptyRow colSpan={6} text={t('keys.none')} />}
          </DataTable>
        )}
      </Loaded>
      <CreateKeyDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(k) => {
          setCreating(false);
          setCreated(k);
          list.reload();
        }}
      />
      <ShownOnceDialog
        item={created}
        title={() => t('keys.createdTitle')}
        done={t('keys.stored')}
        onClose={() => setCreated(null)}
      >
        {(k) => (
          <>
            <p className="notice notice-warn">{t('keys.shownOnce')}</p>
            <div className="secret">
              <code className="secret-value" data-testid="raw-key">
                {k.raw_key}
              </code>
              <CopyButton text={k.raw_key} />
            </div>
          </>
        )}
      </ShownOnceDialog>
      <ConfirmFor
        item={revoking}
        title={t('keys.revoke')}
        body={(k) => t('keys.revokeBody', { name: k.name })}
        action={t('keys.revoke')}
        onConfirm={async (k) => {
          await call(api.DELETE('/api/v1/api-keys/{id}', { params: { path: { id: k.id } } }));
          toast(t('keys.revokedToast', { name: k.name }));
          list.reload();
        }}
        onClose={() => setRevoking(null)}
      />
    </div>
  );
}

/** Scopes that open the owner's own data: any user may put them on their own key, never on a tenant key. */
const SELF_SCOPES = ['gdpr.self', 'profile.read', 'profile.write', 'sessions.self'];

type Owner = 'user' | 'tenant';

function CreateKeyDialog(props: {
  open: boolean;
  onClose: () => void;
  onCreated: (k: { name: string; raw_key: string }) => void;
}) {
  const session = useSession();
  const { catalogue, held, roles } = useGrantable(props.open);
  // A key that outlives its creator acts with a role: the API lets who may hand out roles mint one.
  const tenantKeys = (session.can('roles.assign') || session.can('tenants.manage')) && roles.length > 0;
  const { register, control, reset, getValues, setValue, watch } = useForm({
    defaultValues: {
      name: '',
      expires: '',
      owner: 'user' as Owner,
      role: '',
      scopes: new Set<string>() as ReadonlySet<string>,
    },
  });
  // The owner decides the scopes offered and whether a role is asked for.
  const owner = watch('owner');
  // No role picked yet: the first one, as the select shows it (roles load after the dialog opens).
  const roleOf = (picked: string) => picked || roles[0]?.id || '';
  const offered = scopesFor(owner, heldPermissions(held, catalogue), session.can);
  return (
    <FormDialog
      open={props.open}
      title={t('keys.create')}
      onClose={props.onClose}
      onOpen={() => reset()}
      onSubmit={async () => {
        const { name, expires, scopes, role } = getValues();
        const k = await call(
          api.POST('/api/v1/api-keys', {
            body: {
              name,
              // Only what this owner may carry, should a box stay ticked from the other owner.
              scopes: [...scopes].filter((s) => offered.includes(s)).sort(),
              ...(owner === 'tenant' ? { owner, role_id: roleOf(role) } : {}),
              ...(expires ? { expires_at: new Date(`${expires}T23:59:59`).toISOString() } : {}),
            },
          }),
        );
        props.onCreated({ name: k.name, raw_key: k.raw_key });
      }}
      submitLabel={t('keys.createSubmit')}
      wide
    >
      <TextField
        label={t('keys.name')}
        field="name"
        reg={register('name')}
        required
        maxLength={255}
        autoFocus
      />
      <TextField
        label={t('keys.expiresAt')}
        field="expires_at"
        hint={t('keys.expiresHint')}
        type="date"
        reg={register('expires')}
      />
      {tenantKeys && (
        <div className="row2">
          <Select<Owner>
            label={t('keys.owner')}
            hint={owner === 'tenant' ? t('keys.ownerTenantHint') : t('keys.ownerUserHint')}
            field="owner"
            reg={register('owner')}
            options={[
              { value: 'user', label: t('keys.ownerUser') },
              { value: 'tenant', label: t('keys.ownerTenant') },
            ]}
          />
          {owner === 'tenant' && (
            <Select
              label={t('keys.role')}
              field="role_id"
              value={roleOf(watch('role'))}
              onChange={(v) => setValue('role', v)}
              options={roles.map((r) => ({ value: r.id, label: `${r.name} (${r.code})` }))}
            />
          )}
        </div>
      )}
      <fieldset className="perm-grid">
        <legend>{t('keys.scopes')}</legend>
        <p className="hint">{t('keys.scopesHint')}</p>
        <Controller
          control={control}
          name="scopes"
          render={({ field: { value: scopes, onChange } }) => (
            <div className="perm-group">
              {offered.map((p) => (
                <Checkbox
                  key={p}
                  label={p}
                  checked={scopes.has(p)}
                  onChange={(on) => onChange(withMember(scopes, p, on))}
                />
              ))}
            </div>
          )}
        />
      </fieldset>
    </FormDialog>
  );
}

/**
 * The scopes a key of this owner may get from this user: the permissions they hold (wildcards expanded), `scim`
 * (SCIM provisioning, docs/scim.md) when they hold what SCIM does with it (users.write and roles.assign), and on
 * their own key the self scopes.
 */
function scopesFor(owner: Owner, permissions: string[], can: (p: string) => boolean): string[] {
  const scopes = [...permissions];
  if (can('users.write') && can('roles.assign')) scopes.push('scim');
  if (owner === 'user') scopes.push(...SELF_SCOPES);
  return [...new Set(scopes)].sort();
}
