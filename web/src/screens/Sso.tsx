/**
 * Single sign-on (docs/sso.md): the tenant's OIDC and SAML connections. The list; a connection's page with the
 * values to register at the identity provider (OIDC callback URL, SAML ACS and SP metadata URLs, each with a
 * copy button), its domains with the DNS TXT record to publish and a Verify button; create and edit in one
 * dialog (the OIDC client secret is write-only: the form says whether one is set and offers to replace it);
 * delete after typing the name. `sso.read` sees all of it, `sso.write` gets the controls.
 */
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { api, call } from '../api/client';
import type { paths } from '../api/schema';
import { t } from '../i18n';
import { navigate } from '../router';
import { useSession } from '../session';
import { DataTable, EmptyRow } from '../table';
import {
  Badge,
  Checkbox,
  ConfirmFor,
  CopyValue,
  ErrorText,
  errorMessage,
  Form,
  FormDialog,
  fmtDate,
  Link,
  Loaded,
  PageHeader,
  Panel,
  PasswordField,
  Select,
  TextArea,
  TextField,
  toast,
  useAsync,
  useSubmit,
  withErrorToast,
} from '../ui';

type Connection =
  paths['/api/v1/sso/connections/{id}']['get']['responses'][200]['content']['application/json'];
type Domain = Connection['domains'][number];
type Kind = Connection['type'];

/** One entry a line (or separated by commas or spaces), blanks dropped. */
function lines(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function Enabled({ on }: { on: boolean }) {
  return on ? <Badge kind="ok">{t('sso.enabled')}</Badge> : <Badge kind="muted">{t('sso.disabled')}</Badge>;
}

export function SsoScreen() {
  const session = useSession();
  const list = useAsync(() => call(api.GET('/api/v1/sso/connections')), []);
  const [creating, setCreating] = useState(false);
  const canWrite = session.can('sso.write');
  return (
    <div className="page">
      <PageHeader
        title={t('nav.sso')}
        sub={t('sso.sub')}
        actions={
          canWrite && (
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              {t('sso.create')}
            </button>
          )
        }
      />
      <Loaded load={list}>
        {(data) => (
          <DataTable
            caption={t('nav.sso')}
            columns={[
              { label: t('sso.name') },
              { label: t('sso.type') },
              { label: t('sso.status') },
              { label: t('sso.domains'), hideSm: true },
              { label: t('sso.defaultRole'), hideSm: true },
            ]}
          >
            {data.connections.map((c) => (
              <tr key={c.id}>
                <td>
                  <Link to={`/sso/${c.id}`}>{c.name}</Link>
                </td>
                <td>{c.type === 'oidc' ? 'OIDC' : 'SAML'}</td>
                <td>
                  <Enabled on={c.enabled} />
                </td>
                <td className="hide-sm">
                  {c.domains.length === 0 ? (
                    <span className="muted">—</span>
                  ) : (
                    c.domains.map((d) => (
                      <span key={d.domain} className="nowrap">
                        {d.domain}{' '}
                        {d.verified ? (
                          <Badge kind="ok">{t('sso.verified')}</Badge>
                        ) : (
                          <Badge kind="warn">{t('sso.unverified')}</Badge>
                        )}{' '}
                      </span>
                    ))
                  )}
                </td>
                <td className="hide-sm mono-sm">{c.default_role}</td>
              </tr>
            ))}
            {data.connections.length === 0 && <EmptyRow colSpan={5} text={t('sso.none')} />}
          </DataTable>
        )}
      </Loaded>
      <ConnectionDialog
        open={creating}
        connection={null}
        onClose={() => setCreating(false)}
        onSaved={(c) => {
          setCreating(false);
          navigate(`/sso/${c.id}`);
        }}
      />
    </div>
  );
}

export function SsoConnectionScreen({ id }: { id: string }) {
  const session = useSession();
  const conn = useAsync(
    () => call(api.GET('/api/v1/sso/connections/{id}', { params: { path: { id } } })),
    [id],
  );
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState<Connection | null>(null);
  const canWrite = session.can('sso.write');
  return (
    <div className="page">
      <p className="crumbs">
        <Link to="/sso">← {t('nav.sso')}</Link>
      </p>
      <Loaded load={conn}>
        {(c) => (
          <>
            <PageHeader
              title={c.name}
              sub={
                <>
                  {c.type === 'oidc' ? 'OpenID Connect' : 'SAML 2.0'} · <Enabled on={c.enabled} />
                </>
              }
              actions={
                canWrite && (
                  <>
                    {/* A sign-in at the IdP that ends on this connection's test page (below); nobody is signed in. */}
                    <ActionButton
                      label={t('sso.test')}
                      testId="test-connection"
                      action={async () => {
                        const started = await call(
                          api.POST('/api/v1/sso/connections/{id}/test', { params: { path: { id: c.id } } }),
                        );
                        window.location.assign(started.auth_url);
                      }}
                    />
                    {c.saml?.idp_metadata_url && (
                      <ActionButton
                        label={t('sso.refreshMetadata')}
                        testId="refresh-metadata"
                        action={async () => {
                          await call(
                            api.POST('/api/v1/sso/connections/{id}/metadata/refresh', {
                              params: { path: { id: c.id } },
                            }),
                          );
                          toast(t('sso.metadataRefreshed'));
                          conn.reload();
                        }}
                      />
                    )}
                    <button type="button" className="btn" onClick={() => setEditing(true)}>
                      {t('common.edit')}
                    </button>
                    <button type="button" className="btn btn-danger" onClick={() => setDeleting(c)}>
                      {t('common.delete')}
                    </button>
                  </>
                )
              }
            />
            <div className="grid2">
              <Panel id="idp-h" title={t('sso.forIdp')} className="stack">
                <p className="hint">{t('sso.forIdpHint')}</p>
                {c.oidc && (
                  <CopyValue label={t('sso.callbackUrl')} value={c.oidc.callback_url} testId="callback-url" />
                )}
                {c.saml && (
                  <>
                    <CopyValue label={t('sso.acsUrl')} value={c.saml.acs_url} testId="acs-url" />
                    <CopyValue
                      label={t('sso.spEntityId')}
                      value={c.saml.sp_entity_id || c.saml.metadata_url}
                      testId="sp-entity-id"
                    />
                    <CopyValue
                      label={t('sso.metadataUrl')}
                      value={c.saml.metadata_url}
                      testId="metadata-url"
                    />
                  </>
                )}
              </Panel>
              <Panel id="settings-h" title={t('sso.settings')}>
                <dl className="facts facts-long">
                  {c.oidc && (
                    <>
                      <dt>{t('sso.issuer')}</dt>
                      <dd className="mono-sm break">{c.oidc.issuer}</dd>
                      <dt>{t('sso.clientId')}</dt>
                      <dd className="mono-sm break">{c.oidc.client_id}</dd>
                      <dt>{t('sso.clientSecret')}</dt>
                      <dd data-testid="secret-state">
                        {c.oidc.has_client_secret ? (
                          <Badge kind="ok">{t('sso.secretSet')}</Badge>
                        ) : (
                          <Badge kind="warn">{t('sso.notSet')}</Badge>
                        )}
                      </dd>
                    </>
                  )}
                  {c.saml && (
                    <>
                      <dt>{t('sso.idpEntityId')}</dt>
                      <dd className="mono-sm break">{c.saml.idp_entity_id ?? '—'}</dd>
                      <dt>{t('sso.idpSsoUrl')}</dt>
                      <dd className="mono-sm break">{c.saml.idp_sso_url ?? '—'}</dd>
                      <dt>{t('sso.idpCertificate')}</dt>
                      <dd>
                        {c.saml.idp_certificate ? (
                          <Badge kind="ok">{t('sso.certificateSet')}</Badge>
                        ) : (
                          <Badge kind="warn">{t('sso.notSet')}</Badge>
                        )}{' '}
                        {c.saml.idp_certificate_next && (
                          <Badge kind="muted">{t('sso.nextCertificate')}</Badge>
                        )}
                      </dd>
                      <dt>{t('sso.idpMetadataUrl')}</dt>
                      <dd className="mono-sm break" data-testid="idp-metadata-url">
                        {c.saml.idp_metadata_url ?? '—'}
                      </dd>
                    </>
                  )}
                  <dt>{t('sso.defaultRole')}</dt>
                  <dd className="mono-sm">{c.default_role}</dd>
                  <dt>{t('sso.jit')}</dt>
                  <dd>{c.jit_provisioning ? t('sso.yes') : t('sso.no')}</dd>
                  <dt>{t('sso.trustMfa')}</dt>
                  <dd>{c.trust_mfa ? t('sso.yes') : t('sso.no')}</dd>
                  <dt>{t('sso.ssoRequired')}</dt>
                  <dd>{c.sso_required ? t('sso.yes') : t('sso.no')}</dd>
                  <dt>{t('sso.redirectUris')}</dt>
                  <dd className="mono-sm break">
                    {c.redirect_uris.length ? c.redirect_uris.join(' · ') : <span className="muted">—</span>}
                  </dd>
                  <dt>{t('sso.updated')}</dt>
                  <dd>{fmtDate(c.updated_at)}</dd>
                </dl>
              </Panel>
            </div>
            <DomainsPanel connection={c} canWrite={canWrite} onChanged={conn.reload} />
            <ConnectionDialog
              open={editing}
              connection={c}
              onClose={() => setEditing(false)}
              onSaved={() => {
                setEditing(false);
                conn.reload();
              }}
            />
            <ConfirmFor
              item={deleting}
              title={t('sso.delete')}
              body={(d) => t('sso.deleteBody', { name: d.name })}
              action={t('common.delete')}
              confirmText={(d) => d.name}
              onConfirm={async (d) => {
                await call(api.DELETE('/api/v1/sso/connections/{id}', { params: { path: { id: d.id } } }));
                toast(t('sso.deleted', { name: d.name }));
                navigate('/sso');
              }}
              onClose={() => setDeleting(null)}
            />
          </>
        )}
      </Loaded>
    </div>
  );
}

function DomainsPanel(props: { connection: Connection; canWrite: boolean; onChanged: () => void }) {
  const c = props.connection;
  const { register, handleSubmit, reset } = useForm({ defaultValues: { domain: '' } });
  const [removing, setRemoving] = useState<Domain | null>(null);
  const adding = useSubmit();
  return (
    <Panel id="domains-h" title={t('sso.domains')}>
      <p className="hint">{t('sso.domainsHint')}</p>
      {c.domains.length > 0 && (
        <ul className="sso-domains">
          {c.domains.map((d) => (
            <DomainItem
              key={d.domain}
              connection={c}
              domain={d}
              canWrite={props.canWrite}
              onChanged={props.onChanged}
              onRemove={() => setRemoving(d)}
            />
          ))}
        </ul>
      )}
      {c.domains.length === 0 && <p className="muted">{t('sso.noDomains')}</p>}
      {props.canWrite && (
        <Form
          className="sso-add-domain"
          error={adding.error}
          onSubmit={handleSubmit(({ domain }) =>
            adding.submit(async () => {
              await call(
                api.POST('/api/v1/sso/connections/{id}/domains', {
                  params: { path: { id: c.id } },
                  body: { domain: domain.trim() },
                }),
              );
              reset();
              props.onChanged();
            }),
          )}
        >
          <TextField
            label={t('sso.newDomain')}
            field="domain"
            reg={register('domain')}
            required
            maxLength={253}
            placeholder="example.com"
          />
          <button type="submit" className="btn" disabled={adding.busy}>
            {t('sso.addDomain')}
          </button>
          <ErrorText error={adding.error} />
        </Form>
      )}
      <ConfirmFor
        item={removing}
        title={t('sso.removeDomain')}
        body={(d) => t('sso.removeDomainBody', { domain: d.domain })}
        action={t('common.remove')}
        onConfirm={async (d) => {
          await call(
            api.DELETE('/api/v1/sso/connections/{id}/domains/{domain}', {
              params: { path: { id: c.id, domain: d.domain } },
            }),
          );
          toast(t('sso.domainRemoved', { domain: d.domain }));
          props.onChanged();
        }}
        onClose={() => setRemoving(null)}
      />
    </Panel>
  );
}

function DomainItem(props: {
  connection: Connection;
  domain: Domain;
  canWrite: boolean;
  onChanged: () => void;
  onRemove: () => void;
}) {
  const d = props.domain;
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const { busy, submit } = useSubmit();
  async function verify() {
    setResult(null);
    await submit(async () => {
      try {
        await call(
          api.POST('/api/v1/sso/connections/{id}/domains/{domain}/verify', {
            params: { path: { id: props.connection.id, domain: d.domain } },
          }),
        );
        setResult({ ok: true, text: t('sso.verifiedToast', { domain: d.domain }) });
        props.onChanged();
      } catch (err) {
        setResult({ ok: false, text: errorMessage(err) });
      }
    });
  }
  return (
    <li className="sso-domain">
      <div className="sso-domain-head">
        <strong className="break">{d.domain}</strong>
        <span>
          {d.verified ? (
            <Badge kind="ok">{t('sso.verifiedOn', { date: fmtDate(d.verified_at) })}</Badge>
          ) : (
            <Badge kind="warn">{t('sso.unverified')}</Badge>
          )}
        </span>
      </div>
      {!d.verified && (
        <>
          <p className="hint">{t('sso.txtHint')}</p>
          <div className="row2">
            <CopyValue label={t('sso.txtName')} value={d.txt_record_name} testId="txt-name" />
            <CopyValue label={t('sso.txtValue')} value={props.connection.domain_token} testId="txt-value" />
          </div>
        </>
      )}
      {result && (
        <p className={result.ok ? 'notice' : 'error'} role={result.ok ? 'status' : 'alert'}>
          {result.text}
        </p>
      )}
      {props.canWrite && (
        <div className="actions actions-left">
          {!d.verified && (
            <button
              type="button"
              className="btn btn-small"
              disabled={busy}
              onClick={() => void verify()}
              aria-label={t('sso.verifyNamed', { domain: d.domain })}
            >
              {t('sso.verify')}
            </button>
          )}
          <button
            type="button"
            className="btn btn-small btn-danger"
            onClick={props.onRemove}
            aria-label={t('sso.removeDomainNamed', { domain: d.domain })}
          >
            {t('common.remove')}
          </button>
        </div>
      )}
    </li>
  );
}

/** The connection dialog's fields: a connection's values to edit it, the defaults (null) to create one. */
function connectionFields(c: Connection | null) {
  return {
    type: c?.type ?? ('oidc' as Kind),
    name: c?.name ?? '',
    enabled: c?.enabled ?? true,
    domains: '',
    defaultRole: c?.default_role ?? 'member',
    jit: c?.jit_provisioning ?? true,
    trustMfa: c?.trust_mfa ?? false,
    ssoRequired: c?.sso_required ?? false,
    redirectUris: (c?.redirect_uris ?? []).join('\n'),
    issuer: c?.oidc?.issuer ?? '',
    clientId: c?.oidc?.client_id ?? '',
    clientSecret: '', // write-only: never shown back, only replaced
    idpEntityId: c?.saml?.idp_entity_id ?? '',
    idpSsoUrl: c?.saml?.idp_sso_url ?? '',
    idpCertificate: c?.saml?.idp_certificate ?? '',
    spEntityId: c?.saml?.sp_entity_id ?? '',
    // The IdP's metadata, by URL (kept, re-read by "Refresh metadata") or pasted (read once).
    idpMetadataUrl: c?.saml?.idp_metadata_url ?? '',
    idpMetadataXml: '',
  };
}

/** Create (connection null) or edit. Domains are set at creation; afterwards they are managed one by one. */
function ConnectionDialog(props: {
  open: boolean;
  connection: Connection | null;
  onClose: () => void;
  onSaved: (c: Connection) => void;
}) {
  const c = props.connection;
  const roles = useAsync(
    () => (props.open ? call(api.GET('/api/v1/roles')).catch(() => null) : Promise.resolve(null)),
    [props.open],
  );
  const { register, reset, getValues, watch } = useForm({ defaultValues: connectionFields(c) });
  // The type decides the fieldset shown; the default role must stay among the options offered.
  const [type, defaultRole] = watch(['type', 'defaultRole']);

  // Roles the connection may hand out: owner never (the API refuses it); the current value stays listed.
  const roleCodes = (roles.data?.roles ?? []).map((r) => ({ value: r.code, label: `${r.name} (${r.code})` }));
  const roleOptions = roleCodes.filter((r) => r.value !== 'owner');
  if (roleOptions.length > 0 && !roleOptions.some((r) => r.value === defaultRole))
    roleOptions.unshift({ value: defaultRole, label: defaultRole });

  async function save() {
    const { type, name, enabled, domains, defaultRole, jit, trustMfa, ssoRequired, redirectUris } =
      getValues();
    const { issuer, clientId, clientSecret, idpEntityId, idpSsoUrl, idpCertificate, spEntityId } =
      getValues();
    const { idpMetadataUrl, idpMetadataXml } = getValues();
    const common = {
      name: name.trim(),
      enabled,
      default_role: defaultRole.trim(),
      jit_provisioning: jit,
      trust_mfa: trustMfa,
      sso_required: ssoRequired,
      redirect_uris: lines(redirectUris),
    };
    // Only what is filled in: the IdP's metadata (URL or pasted) fills the rest, and a field given beside it wins.
    const given = (value: string) => value.trim() || undefined;
    const metadataUrl = given(idpMetadataUrl);
    const saml = {
      idp_entity_id: given(idpEntityId),
      idp_sso_url: given(idpSsoUrl),
      idp_certificate: given(idpCertificate),
      sp_entity_id: given(spEntityId),
      idp_metadata_xml: given(idpMetadataXml),
      ...(metadataUrl
        ? { idp_metadata_url: metadataUrl }
        : c?.saml?.idp_metadata_url
          ? { idp_metadata_url: null }
          : {}),
    };
    let saved: Connection;
    if (c) {
      saved = await call(
        api.PATCH('/api/v1/sso/connections/{id}', {
          params: { path: { id: c.id } },
          body: {
            ...common,
            ...(c.type === 'oidc'
              ? {
                  oidc: {
                    issuer: issuer.trim(),
                    client_id: clientId.trim(),
                    ...(clientSecret ? { client_secret: clientSecret } : {}),
                  },
                }
              : { saml }),
          },
        }),
      );
    } else {
      saved = await call(
        api.POST('/api/v1/sso/connections', {
          body: {
            type,
            ...common,
            domains: lines(domains),
            ...(type === 'oidc'
              ? { oidc: { issuer: issuer.trim(), client_id: clientId.trim(), client_secret: clientSecret } }
              : { saml }),
          },
        }),
      );
    }
    toast(c ? t('common.saved') : t('sso.created', { name: saved.name }));
    props.onSaved(saved);
  }

  const kind = c?.type ?? type;
  return (
    <FormDialog
      open={props.open}
      title={c ? t('sso.edit', { name: c.name }) : t('sso.create')}
      onClose={props.onClose}
      onOpen={() => reset(connectionFields(c))}
      onSubmit={save}
      submitLabel={c ? t('common.save') : t('sso.createSubmit')}
      wide
    >
      <div className="row2">
        <Select
          label={t('sso.type')}
          reg={register('type')}
          disabled={c !== null}
          options={[
            { value: 'oidc', label: 'OpenID Connect (OIDC)' },
            { value: 'saml', label: 'SAML 2.0' },
          ]}
        />
        <TextField
          label={t('sso.name')}
          field="name"
          reg={register('name')}
          required
          maxLength={100}
          autoFocus
        />
      </div>
      <Checkbox label={t('sso.enabledLabel')} reg={register('enabled')} />
      {!c && (
        <TextArea
          label={t('sso.domainsInput')}
          field="domains"
          hint={t('sso.domainsInputHint')}
          reg={register('domains')}
          rows={2}
        />
      )}
      {roleOptions.length > 0 ? (
        <Select label={t('sso.defaultRole')} reg={register('defaultRole')} options={roleOptions} />
      ) : (
        <TextField
          label={t('sso.defaultRole')}
          hint={t('sso.defaultRoleHint')}
          reg={register('defaultRole')}
          required
          pattern="[a-z0-9_.\-]{1,64}"
        />
      )}
      <Checkbox label={t('sso.jit')} hint={t('sso.jitHint')} reg={register('jit')} />
      <Checkbox label={t('sso.trustMfa')} hint={t('sso.trustMfaHint')} reg={register('trustMfa')} />
      <Checkbox label={t('sso.ssoRequired')} hint={t('sso.ssoRequiredHint')} reg={register('ssoRequired')} />
      <TextArea
        label={t('sso.redirectUris')}
        field="redirect_uris"
        hint={t('sso.redirectUrisHint')}
        reg={register('redirectUris')}
        rows={2}
      />
      {kind === 'oidc' ? (
        <fieldset className="stack">
          <legend>OpenID Connect</legend>
          <TextField
            label={t('sso.issuer')}
            field="oidc.issuer"
            hint={t('sso.issuerHint')}
            reg={register('issuer')}
            type="url"
            required
            maxLength={2048}
          />
          <TextField
            label={t('sso.clientId')}
            field="oidc.client_id"
            reg={register('clientId')}
            required
            maxLength={512}
          />
          {c?.oidc?.has_client_secret && (
            <p className="hint" data-testid="secret-set">
              <Badge kind="ok">{t('sso.secretSet')}</Badge> {t('sso.secretSetHint')}
            </p>
          )}
          <PasswordField
            label={c ? t('sso.replaceSecret') : t('sso.clientSecret')}
            hint={c ? t('sso.replaceSecretHint') : t('sso.secretHint')}
            reg={register('clientSecret')}
            autoComplete="new-password"
            required={!c}
            maxLength={1024}
          />
        </fieldset>
      ) : (
        <fieldset className="stack">
          <legend>SAML 2.0</legend>
          <TextField
            label={t('sso.idpMetadataUrl')}
            field="saml.idp_metadata_url"
            hint={t('sso.idpMetadataUrlHint')}
            reg={register('idpMetadataUrl')}
            type="url"
            maxLength={2048}
          />
          <TextArea
            label={t('sso.idpMetadataXml')}
            field="saml.idp_metadata_xml"
            hint={t('sso.idpMetadataXmlHint')}
            reg={register('idpMetadataXml')}
            rows={3}
          />
          <TextField
            label={t('sso.idpEntityId')}
            field="saml.idp_entity_id"
            hint={t('sso.fromMetadataHint')}
            reg={register('idpEntityId')}
            maxLength={1024}
          />
          <TextField
            label={t('sso.idpSsoUrl')}
            field="saml.idp_sso_url"
            hint={t('sso.fromMetadataHint')}
            reg={register('idpSsoUrl')}
            type="url"
            maxLength={2048}
          />
          <TextArea
            label={t('sso.idpCertificate')}
            field="saml.idp_certificate"
            hint={t('sso.idpCertificateHint')}
            reg={register('idpCertificate')}
            rows={6}
          />
          <TextField
            label={t('sso.spEntityId')}
            field="saml.sp_entity_id"
            hint={t('sso.spEntityIdHint')}
            reg={register('spEntityId')}
            maxLength={1024}
          />
        </fieldset>
      )}
    </FormDialog>
  );
}

/** A header button that acts at once: busy while it runs, its failure in a toast. */
function ActionButton(props: { label: string; testId: string; action: () => Promise<void> }) {
  const { busy, onClick } = useSubmit();
  return (
    <button
      type="button"
      className="btn"
      onClick={onClick(() => withErrorToast(props.action))}
      disabled={busy}
      data-testid={props.testId}
    >
      {props.label}
    </button>
  );
}

/**
 * Where a connection test ends (`/sso/{id}/test?result=…`, `&error=<CODE>` when refused): the identity as
 * MassaCorp read it and every attribute the provider sent, or the refusal.
 */
export function SsoTestResultScreen({ id }: { id: string }) {
  const query = new URLSearchParams(window.location.search);
  const resultId = query.get('result') ?? '';
  const result = useAsync(
    () =>
      call(
        api.GET('/api/v1/sso/connections/{id}/test-results/{result}', {
          params: { path: { id, result: resultId } },
        }),
      ),
    [id, resultId],
  );
  return (
    <div className="page">
      <p className="crumbs">
        <Link to={`/sso/${id}`}>← {t('nav.sso')}</Link>
      </p>
      <PageHeader title={t('sso.testResult')} sub={t('sso.testResultSub')} />
      <Loaded load={result}>
        {(r) => (
          <div className="stack">
            {r.ok ? (
              <p data-testid="test-ok">
                <Badge kind="ok">{t('sso.testOk')}</Badge>
              </p>
            ) : (
              <p className="error" role="alert" data-testid="test-error">
                {t('sso.testRefused', { code: r.error ?? '' })}
              </p>
            )}
            {r.identity && (
              <Panel id="identity-h" title={t('sso.testIdentity')}>
                <dl className="facts facts-long">
                  <dt>{t('sso.testSubject')}</dt>
                  <dd className="mono-sm break" data-testid="test-subject">
                    {r.identity.subject}
                  </dd>
                  <dt>{t('sso.idpEntityId')}</dt>
                  <dd className="mono-sm break">{r.identity.issuer}</dd>
                  <dt>{t('sso.testEmail')}</dt>
                  <dd className="mono-sm break">{r.identity.email ?? '—'}</dd>
                  <dt>{t('sso.testName')}</dt>
                  <dd>
                    {[r.identity.given_name, r.identity.family_name].filter(Boolean).join(' ') ||
                      r.identity.name ||
                      '—'}
                  </dd>
                  <dt>{t('sso.trustMfa')}</dt>
                  <dd>{r.identity.mfa_asserted ? t('sso.yes') : t('sso.no')}</dd>
                </dl>
              </Panel>
            )}
            {r.attributes.length > 0 && (
              <DataTable
                caption={t('sso.testAttributes')}
                columns={[{ label: t('sso.testAttrName') }, { label: t('sso.testAttrValues') }]}
              >
                {r.attributes.map((a) => (
                  <tr key={a.name}>
                    <td className="mono-sm break">
                      {a.name}
                      {a.friendly_name && <span className="muted"> ({a.friendly_name})</span>}
                    </td>
                    <td className="mono-sm break">{a.values.join(', ')}</td>
                  </tr>
                ))}
              </DataTable>
            )}
            <p className="hint">{t('sso.testNobody')}</p>
          </div>
        )}
      </Loaded>
    </div>
  );
}
