/**
 * Applications (OIDC): the clients of the tenant's OpenID Provider (docs/oidc-provider.md, api.md §22.1). The list,
 * a registration form, and a client's page (edit, enable/disable, rotate its secret, delete). The secret is shown
 * once, at registration and at each rotation. `oidc.clients.read` sees; `oidc.clients.write` changes.
 */
import { useState } from 'react';
import { Controller, type UseFormReturn, useForm } from 'react-hook-form';
import { api, call } from '../api/client';
import type { paths } from '../api/schema';
import { useGrantable } from '../grantable';
import { heldPermissions } from '../grants';
import { t } from '../i18n';
import { navigate } from '../router';
import { useSession } from '../session';
import { DataTable, EmptyRow } from '../table';
import {
  Badge,
  Checkbox,
  CheckList,
  ConfirmFor,
  CopyButton,
  CopyValue,
  FormCheckList,
  FormDialog,
  fmtDate,
  Link,
  Loaded,
  PageHeader,
  Select,
  ShownOnceDialog,
  TextArea,
  TextField,
  toast,
  useAsync,
  withErrorToast,
} from '../ui';

type Client =
  paths['/api/v1/oidc/clients']['get']['responses'][200]['content']['application/json']['clients'][number];
type ClientType = 'confidential' | 'public';
type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
type Alg = 'RS256' | 'EdDSA' | 'ES256';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export const SCOPES = ['openid', 'profile', 'email', 'offline_access', 'roles', 'permissions'] as const;
const ALGS: Alg[] = ['RS256', 'EdDSA', 'ES256'];
/** The longest overlap the API allows a rotated-out secret (7 days), in hours. */
const MAX_OVERLAP_HOURS = 168;

/** The tenant's discovery document: where an application's OIDC library is pointed. */
export function discoveryUrl(slug: string, origin = window.location.origin): string {
  return `${origin}/oidc/${encodeURIComponent(slug)}/.well-known/openid-configuration`;
}

/** One URI a line, blank lines and surrounding spaces dropped. */
const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

interface Values {
  name: string;
  type: ClientType;
  redirectUris: string;
  postLogoutUris: string;
  backchannelUri: string;
  grantTypes: ReadonlySet<string>;
  authMethod: AuthMethod;
  jwksUri: string;
  scopes: ReadonlySet<string>;
  firstParty: boolean;
  permissions: ReadonlySet<string>;
  alg: Alg;
  subjectType: 'public' | 'pairwise';
  enabled: boolean;
}

const NEW: Values = {
  name: '',
  type: 'confidential',
  redirectUris: '',
  postLogoutUris: '',
  backchannelUri: '',
  grantTypes: new Set(['authorization_code', 'refresh_token']),
  authMethod: 'client_secret_basic',
  jwksUri: '',
  scopes: new Set(['openid', 'profile', 'email']),
  firstParty: false,
  permissions: new Set(),
  alg: 'RS256',
  subjectType: 'public',
  enabled: true,
};

function valuesOf(c: Client): Values {
  return {
    name: c.name,
    type: c.type,
    redirectUris: c.redirect_uris.join('\n'),
    postLogoutUris: c.post_logout_redirect_uris.join('\n'),
    backchannelUri: c.backchannel_logout_uri ?? '',
    grantTypes: new Set(c.grant_types),
    authMethod: c.token_endpoint_auth_method as AuthMethod,
    jwksUri: c.jwks_uri ?? '',
    scopes: new Set(c.allowed_scopes),
    firstParty: c.first_party,
    permissions: new Set(c.permissions),
    alg: c.id_token_signed_response_alg as Alg,
    subjectType: c.subject_type,
    enabled: c.enabled,
  };
}

/** The API body of the form's values: what the client's type and grants leave meaningful, nothing else. */
function settingsOf(v: Values) {
  const confidential = v.type === 'confidential';
  const grants = GRANT_TYPES.filter(
    (g) => v.grantTypes.has(g) && (confidential || g !== 'client_credentials'),
  );
  const method: AuthMethod = confidential ? v.authMethod : 'none';
  return {
    name: v.name.trim(),
    redirect_uris: lines(v.redirectUris),
    post_logout_redirect_uris: lines(v.postLogoutUris),
    backchannel_logout_uri:
      grants.includes('authorization_code') && v.backchannelUri.trim() ? v.backchannelUri.trim() : null,
    grant_types: grants,
    token_endpoint_auth_method: method,
    ...(method === 'private_key_jwt' && v.jwksUri.trim() ? { jwks_uri: v.jwksUri.trim() } : {}),
    allowed_scopes: SCOPES.filter((s) => v.scopes.has(s)),
    first_party: v.firstParty,
    permissions: grants.includes('client_credentials') ? [...v.permissions].sort() : [],
    id_token_signed_response_alg: v.alg,
    subject_type: v.subjectType,
  };
}

/** A client's secret (or its absence), shown once with its copy button and the warning. */
type Shown = { title: string; client: { client_id: string; client_secret: string | null } };

function SecretDialog(props: { shown: Shown | null; onClose: () => void }) {
  return (
    <ShownOnceDialog
      item={props.shown}
      title={(s) => s.title}
      done={t('oidc.secretStored')}
      onClose={props.onClose}
      wide
    >
      {(s) => (
        <>
          <CopyValue label={t('oidc.clientId')} value={s.client.client_id} testId="oidc-client-id" />
          {s.client.client_secret ? (
            <>
              <p className="notice notice-warn">{t('oidc.secretShownOnce')}</p>
              <div className="copy-value">
                <span className="copy-label">{t('oidc.clientSecret')}</span>
                <div className="secret">
                  <code className="secret-value" data-testid="oidc-client-secret">
                    {s.client.client_secret}
                  </code>
                  <CopyButton text={s.client.client_secret} name={t('oidc.clientSecret')} />
                </div>
              </div>
            </>
          ) : (
            <p className="notice">{t('oidc.noSecret')}</p>
          )}
        </>
      )}
    </ShownOnceDialog>
  );
}

function StatusBadge({ c }: { c: Client }) {
  return c.enabled ? (
    <Badge kind="ok">{t('oidc.enabled')}</Badge>
  ) : (
    <Badge kind="bad">{t('oidc.disabled')}</Badge>
  );
}

/** Where an application's library finds the tenant's provider. */
function Discovery() {
  const session = useSession();
  const slug = session.user?.tenant?.slug;
  if (!slug) return null;
  return <CopyValue label={t('oidc.discovery')} value={discoveryUrl(slug)} testId="oidc-discovery" />;
}

export function OidcClientsScreen() {
  const session = useSession();
  const list = useAsync(
    () => call(api.GET('/api/v1/oidc/clients', { params: { query: { limit: 100 } } })),
    [],
  );
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<Shown | null>(null);
  const [deleting, setDeleting] = useState<Client | null>(null);
  const canWrite = session.can('oidc.clients.write');
  return (
    <div className="page">
      <PageHeader
        title={t('nav.oidcClients')}
        sub={t('oidc.sub')}
        actions={
          canWrite && (
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              {t('oidc.create')}
            </button>
          )
        }
      />
      <Discovery />
      <Loaded load={list}>
        {(data) => (
          <DataTable
            caption={t('nav.oidcClients')}
            columns={[
              { label: t('oidc.name') },
              { label: t('oidc.clientId'), hideSm: true },
              { label: t('oidc.type') },
              { label: t('oidc.grantTypes'), hideSm: true },
              { label: t('oidc.status') },
              ...(canWrite ? [{ label: t('common.actions'), srOnly: true }] : []),
            ]}
          >
            {data.clients.map((c) => (
              <tr key={c.id}>
                <td className="break">
                  <Link to={`/applications/${c.id}`}>{c.name}</Link>
                </td>
                <td className="hide-sm mono-sm break">{c.client_id}</td>
                <td>{t(`oidc.type.${c.type}`)}</td>
                <td className="hide-sm">
                  {c.grant_types.map((g) => (
                    <code key={g} className="scope">
                      {g}
                    </code>
                  ))}
                </td>
                <td>
                  <StatusBadge c={c} />
                </td>
                {canWrite && (
                  <td className="cell-actions">
                    <button
                      type="button"
                      className="btn btn-small btn-danger"
                      onClick={() => setDeleting(c)}
                      aria-label={t('oidc.deleteNamed', { name: c.name })}
                    >
                      {t('oidc.delete')}
                    </button>
                  </td>
                )}
              </tr>
            ))}
            {data.clients.length === 0 && <EmptyRow colSpan={canWrite ? 6 : 5} text={t('oidc.none')} />}
          </DataTable>
        )}
      </Loaded>
      <ClientDialog
        open={creating}
        onClose={() => setCreating(false)}
        onSaved={(c) => {
          setCreating(false);
          if ('client_secret' in c) setShown({ title: t('oidc.createdTitle'), client: c });
          list.reload();
        }}
      />
      <SecretDialog shown={shown} onClose={() => setShown(null)} />
      <DeleteClient item={deleting} onClose={() => setDeleting(null)} onDeleted={() => list.reload()} />
    </div>
  );
}

function DeleteClient(props: { item: Client | null; onClose: () => void; onDeleted: () => void }) {
  return (
    <ConfirmFor
      item={props.item}
      title={t('oidc.delete')}
      body={(c) => t('oidc.deleteBody', { name: c.name })}
      action={t('oidc.delete')}
      confirmText={(c) => c.name}
      onConfirm={async (c) => {
        await call(api.DELETE('/api/v1/oidc/clients/{id}', { params: { path: { id: c.id } } }));
        toast(t('oidc.deleted', { name: c.name }));
        props.onDeleted();
      }}
      onClose={props.onClose}
    />
  );
}

/** Registration (no `client`) or a change of a client's settings (its type stays). */
function ClientDialog(props: {
  open: boolean;
  client?: Client;
  onClose: () => void;
  onSaved: (c: Client | (Client & { client_secret: string | null })) => void;
}) {
  const form = useForm<Values>({ defaultValues: NEW });
  const { client } = props;
  return (
    <FormDialog
      open={props.open}
      title={client ? t('oidc.edit') : t('oidc.create')}
      onClose={props.onClose}
      onOpen={() => form.reset(client ? valuesOf(client) : NEW)}
      onSubmit={async () => {
        const v = form.getValues();
        const body = settingsOf(v);
        const saved = client
          ? await call(api.PATCH('/api/v1/oidc/clients/{id}', { params: { path: { id: client.id } }, body }))
          : await call(api.POST('/api/v1/oidc/clients', { body: { ...body, type: v.type } }));
        props.onSaved(saved);
      }}
      submitLabel={client ? t('common.save') : t('oidc.createSubmit')}
      wide
    >
      <ClientFields form={form} editing={Boolean(client)} open={props.open} />
    </FormDialog>
  );
}

function ClientFields({
  form,
  editing,
  open,
}: {
  form: UseFormReturn<Values>;
  editing: boolean;
  open: boolean;
}) {
  const { register, control, watch } = form;
  const { catalogue, held } = useGrantable(open);
  const type = watch('type');
  const grants = watch('grantTypes');
  const method = watch('authMethod');
  const confidential = type === 'confidential';
  // Outside the platform tenant the API refuses platform-only codes on a client: never offered.
  const platformOnly = new Set(catalogue?.permissions.filter((p) => p.platform_only).map((p) => p.code));
  const grantable = heldPermissions(held, catalogue).filter((p) => !platformOnly.has(p));
  return (
    <>
      <TextField
        label={t('oidc.name')}
        field="name"
        reg={register('name')}
        required
        maxLength={200}
        autoFocus
      />
      {!editing && (
        <Select<ClientType>
          label={t('oidc.type')}
          field="type"
          hint={confidential ? t('oidc.type.confidentialHint') : t('oidc.type.publicHint')}
          reg={register('type')}
          options={[
            { value: 'confidential', label: t('oidc.type.confidential') },
            { value: 'public', label: t('oidc.type.public') },
          ]}
        />
      )}
      <TextArea
        label={t('oidc.redirectUris')}
        hint={t('oidc.redirectUrisHint')}
        field="redirect_uris"
        reg={register('redirectUris')}
        rows={3}
      />
      <TextArea
        label={t('oidc.postLogoutUris')}
        hint={t('oidc.postLogoutUrisHint')}
        field="post_logout_redirect_uris"
        reg={register('postLogoutUris')}
        rows={2}
      />
      <TextField
        label={t('oidc.backchannelUri')}
        hint={t('oidc.backchannelUriHint')}
        field="backchannel_logout_uri"
        type="url"
        reg={register('backchannelUri')}
        placeholder="https://"
        maxLength={2048}
      />
      <FormCheckList
        control={control}
        name="grantTypes"
        legend={t('oidc.grantTypes')}
        field="grant_types"
        items={GRANT_TYPES.filter((g) => confidential || g !== 'client_credentials').map((g) => ({
          key: g,
          label: t(`oidc.grant.${g}`),
        }))}
      />
      {confidential && (
        <Select<AuthMethod>
          label={t('oidc.authMethod')}
          field="token_endpoint_auth_method"
          hint={editing ? t('oidc.authMethodEditHint') : undefined}
          reg={register('authMethod')}
          options={(['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const).map((m) => ({
            value: m,
            label: t(`oidc.auth.${m}`),
          }))}
        />
      )}
      {confidential && method === 'private_key_jwt' && (
        <TextField
          label={t('oidc.jwksUri')}
          hint={t('oidc.jwksUriHint')}
          field={['jwks_uri', 'jwks']}
          type="url"
          reg={register('jwksUri')}
          placeholder="https://"
          maxLength={2048}
        />
      )}
      <FormCheckList
        control={control}
        name="scopes"
        legend={t('oidc.scopes')}
        field="allowed_scopes"
        items={SCOPES.map((s) => ({ key: s, label: `${s} — ${t(`consent.scope.${s}`)}` }))}
      />
      <Checkbox label={t('oidc.firstParty')} hint={t('oidc.firstPartyHint')} reg={register('firstParty')} />
      <Select<Alg>
        label={t('oidc.alg')}
        field="id_token_signed_response_alg"
        reg={register('alg')}
        options={ALGS.map((a) => ({ value: a, label: a }))}
      />
      <Select<'public' | 'pairwise'>
        label={t('oidc.subjectType')}
        hint={t('oidc.subjectTypeHint')}
        field="subject_type"
        reg={register('subjectType')}
        options={[
          { value: 'public', label: t('oidc.subjectType.public') },
          { value: 'pairwise', label: t('oidc.subjectType.pairwise') },
        ]}
      />
      {confidential && grants.has('client_credentials') && (
        <Controller
          control={control}
          name="permissions"
          render={({ field }) => (
            <CheckList
              legend={t('oidc.permissions')}
              hint={t('oidc.permissionsHint')}
              field="permissions"
              // A permission the client has and the admin cannot grant stays listed, to be removed.
              items={[...new Set([...grantable, ...field.value])].sort().map((p) => ({ key: p, label: p }))}
              selected={field.value}
              onChange={field.onChange}
            />
          )}
        />
      )}
    </>
  );
}

/** One client: its settings, the values to configure the application with, and the actions. */
export function OidcClientScreen({ id }: { id: string }) {
  const session = useSession();
  const client = useAsync(
    () => call(api.GET('/api/v1/oidc/clients/{id}', { params: { path: { id } } })),
    [id],
  );
  const [editing, setEditing] = useState(false);
  const [rotating, setRotating] = useState(false);
  const [deleting, setDeleting] = useState<Client | null>(null);
  const [shown, setShown] = useState<Shown | null>(null);
  const canWrite = session.can('oidc.clients.write');
  return (
    <div className="page">
      <Loaded load={client}>
        {(c) => (
          <>
            <PageHeader
              title={c.name}
              sub={t('oidc.clientTitle')}
              actions={
                canWrite && (
                  <>
                    <button type="button" className="btn" onClick={() => setEditing(true)}>
                      {t('oidc.edit')}
                    </button>
                    <button
                      type="button"
                      className="btn"
                      onClick={() =>
                        withErrorToast(async () => {
                          await call(
                            api.PATCH('/api/v1/oidc/clients/{id}', {
                              params: { path: { id } },
                              body: { enabled: !c.enabled },
                            }),
                          );
                          toast(c.enabled ? t('oidc.disabledToast') : t('oidc.enabledToast'));
                          client.reload();
                        })
                      }
                    >
                      {c.enabled ? t('oidc.disable') : t('oidc.enable')}
                    </button>
                    {c.has_secret && (
                      <button type="button" className="btn" onClick={() => setRotating(true)}>
                        {t('oidc.rotate')}
                      </button>
                    )}
                    <button type="button" className="btn btn-danger" onClick={() => setDeleting(c)}>
                      {t('oidc.delete')}
                    </button>
                  </>
                )
              }
            />
            <CopyValue label={t('oidc.clientId')} value={c.client_id} testId="oidc-client-id" />
            <Discovery />
            <dl className="facts facts-long">
              <dt>{t('oidc.status')}</dt>
              <dd>
                <StatusBadge c={c} />
              </dd>
              <dt>{t('oidc.type')}</dt>
              <dd>
                {t(`oidc.type.${c.type}`)}
                {c.require_pkce && <span className="muted small"> {t('oidc.pkce')}</span>}
              </dd>
              <dt>{t('oidc.authMethod')}</dt>
              <dd>
                <code>{c.token_endpoint_auth_method}</code>
              </dd>
              <dt>{t('oidc.grantTypes')}</dt>
              <dd>{c.grant_types.join(', ')}</dd>
              <dt>{t('oidc.redirectUris')}</dt>
              <dd className="break">{c.redirect_uris.length ? c.redirect_uris.join(' · ') : '—'}</dd>
              <dt>{t('oidc.postLogoutUris')}</dt>
              <dd className="break">
                {c.post_logout_redirect_uris.length ? c.post_logout_redirect_uris.join(' · ') : '—'}
              </dd>
              <dt>{t('oidc.backchannelUri')}</dt>
              <dd className="break">{c.backchannel_logout_uri ?? '—'}</dd>
              <dt>{t('oidc.scopes')}</dt>
              <dd>{c.allowed_scopes.length ? c.allowed_scopes.join(' ') : '—'}</dd>
              <dt>{t('oidc.firstParty')}</dt>
              <dd>{c.first_party ? t('oidc.yes') : t('oidc.no')}</dd>
              {c.grant_types.includes('client_credentials') && (
                <>
                  <dt>{t('oidc.permissions')}</dt>
                  <dd>{c.permissions.length ? c.permissions.join(', ') : '—'}</dd>
                </>
              )}
              {c.jwks_uri && (
                <>
                  <dt>{t('oidc.jwksUri')}</dt>
                  <dd className="break">{c.jwks_uri}</dd>
                </>
              )}
              <dt>{t('oidc.alg')}</dt>
              <dd>{c.id_token_signed_response_alg}</dd>
              <dt>{t('oidc.subjectType')}</dt>
              <dd>{t(`oidc.subjectType.${c.subject_type}`)}</dd>
              {c.previous_secret_expires_at && (
                <>
                  <dt>{t('oidc.previousSecret')}</dt>
                  <dd>{t('oidc.previousSecretUntil', { date: fmtDate(c.previous_secret_expires_at) })}</dd>
                </>
              )}
              <dt>{t('oidc.created')}</dt>
              <dd>{fmtDate(c.created_at)}</dd>
            </dl>
            <ClientDialog
              open={editing}
              client={c}
              onClose={() => setEditing(false)}
              onSaved={() => {
                setEditing(false);
                toast(t('oidc.saved'));
                client.reload();
              }}
            />
            <RotateDialog
              open={rotating}
              id={id}
              onClose={() => setRotating(false)}
              onRotated={(r) => {
                setRotating(false);
                setShown({ title: t('oidc.rotatedTitle'), client: r });
                client.reload();
              }}
            />
          </>
        )}
      </Loaded>
      <p>
        <Link to="/applications">{t('oidc.back')}</Link>
      </p>
      <SecretDialog shown={shown} onClose={() => setShown(null)} />
      <DeleteClient
        item={deleting}
        onClose={() => setDeleting(null)}
        onDeleted={() => navigate('/applications')}
      />
    </div>
  );
}

/** A new secret; the current one may keep working for a while (hours), so the application can be redeployed. */
function RotateDialog(props: {
  open: boolean;
  id: string;
  onClose: () => void;
  onRotated: (c: { client_id: string; client_secret: string | null }) => void;
}) {
  const { register, reset, getValues } = useForm({ defaultValues: { hours: '0' } });
  return (
    <FormDialog
      open={props.open}
      title={t('oidc.rotate')}
      onClose={props.onClose}
      onOpen={() => reset()}
      onSubmit={async () => {
        const hours = Number(getValues('hours') || 0);
        const r = await call(
          api.POST('/api/v1/oidc/clients/{id}/secret', {
            params: { path: { id: props.id } },
            body: hours > 0 ? { previous_secret_expires_in: Math.round(hours * 3600) } : {},
          }),
        );
        props.onRotated(r);
      }}
      submitLabel={t('oidc.rotate')}
    >
      <p>{t('oidc.rotateBody')}</p>
      <TextField
        label={t('oidc.overlap')}
        hint={t('oidc.overlapHint')}
        field="previous_secret_expires_in"
        type="number"
        inputMode="numeric"
        min={0}
        max={MAX_OVERLAP_HOURS}
        reg={register('hours')}
      />
    </FormDialog>
  );
}
