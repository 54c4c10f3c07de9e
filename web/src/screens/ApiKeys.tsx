/** API keys: list (revoked on demand), create with scopes (the raw key is shown once, with a copy button), revoke. */
import { useState } from 'react';
import { api, call } from '../api/client';
import { useFields, withMember } from '../form-state';
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
  ShownOnceDialog,
  TextField,
  toast,
  useAsync,
} from '../ui';

type Key = {
  id: number;
  name: string;
  key_prefix: string;
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
                <td>{k.name}</td>
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
        held={grantableScopes(session.user?.permissions ?? [], session.can)}
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

function CreateKeyDialog(props: {
  open: boolean;
  held: string[];
  onClose: () => void;
  onCreated: (k: { name: string; raw_key: string }) => void;
}) {
  const { fields, set, reset } = useFields({ name: '', expires: '', scopes: new Set<string>() });
  const { name, expires, scopes } = fields;
  return (
    <FormDialog
      open={props.open}
      title={t('keys.create')}
      onClose={props.onClose}
      onOpen={reset}
      onSubmit={async () => {
        const k = await call(
          api.POST('/api/v1/api-keys', {
            body: {
              name,
              scopes: [...scopes].sort(),
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
        value={name}
        onChange={set('name')}
        required
        maxLength={255}
        autoFocus
      />
      <TextField
        label={t('keys.expiresAt')}
        hint={t('keys.expiresHint')}
        type="date"
        value={expires}
        onChange={set('expires')}
      />
      <fieldset className="perm-grid">
        <legend>{t('keys.scopes')}</legend>
        <p className="hint">{t('keys.scopesHint')}</p>
        <div className="perm-group">
          {props.held.map((p) => (
            <Checkbox
              key={p}
              label={p}
              checked={scopes.has(p)}
              onChange={(on) => set('scopes')(withMember(scopes, p, on))}
            />
          ))}
        </div>
      </fieldset>
    </FormDialog>
  );
}

/**
 * The scopes a key may get from this user: the permissions they hold, plus `scim` (SCIM provisioning, docs/scim.md)
 * when they hold what SCIM does with it (users.write and roles.assign), as the API requires.
 */
function grantableScopes(permissions: Iterable<string>, can: (p: string) => boolean): string[] {
  const held = [...permissions].filter((p) => !p.includes('*'));
  if (can('users.write') && can('roles.assign')) held.push('scim');
  return held.sort();
}
