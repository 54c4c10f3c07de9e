/**
 * Feature flags: the catalogue (platform operators, `platform.features`, create, edit and delete flags), this
 * tenant's overrides — organisation-wide, per role and per user, each set and removed here with
 * `features.write` — and what the flags resolve to for the signed-in user.
 */
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { api, call } from '../api/client';
import { t } from '../i18n';
import { useSession } from '../session';
import { DataTable } from '../table';
import {
  Badge,
  Checkbox,
  ConfirmFor,
  FormDialog,
  Link,
  Loaded,
  PageHeader,
  Select,
  TextArea,
  TextField,
  toast,
  useAsync,
  withErrorToast,
} from '../ui';

type Flag = Awaited<ReturnType<typeof loadFlags>>['features'][number];
const loadFlags = () => call(api.GET('/api/v1/features'));
type Override = Flag['overrides'][number];
type OnOff = 'on' | 'off';
type Scope = 'tenant' | 'role' | 'user';
const onOff = (enabled: boolean): string => (enabled ? t('features.on') : t('features.off'));

export function FeaturesScreen() {
  const session = useSession();
  const list = useAsync(loadFlags, []);
  const mine = useAsync(() => call(api.GET('/api/v1/features/evaluate')), []);
  // Role overrides are named by their role (roles.read); without it, by the role's id.
  const roles = useAsync(
    () =>
      session.can('roles.read') ? call(api.GET('/api/v1/roles')).then((r) => r.roles) : Promise.resolve([]),
    [],
  );
  const canWrite = session.can('features.write');
  const canCatalogue = session.can('platform.features');
  const [editing, setEditing] = useState<Flag | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Flag | null>(null);
  const [overriding, setOverriding] = useState<Flag | null>(null);
  const changed = () => {
    list.reload();
    mine.reload();
  };

  async function saveOverride(
    key: string,
    body: { scope: Scope; target_id?: string | number },
    enabled: boolean | null,
  ) {
    if (enabled === null) {
      await call(api.DELETE('/api/v1/features/{key}/overrides', { params: { path: { key } }, body }));
    } else {
      await call(
        api.PUT('/api/v1/features/{key}/overrides', {
          params: { path: { key } },
          body: { ...body, enabled },
        }),
      );
    }
    toast(t('common.saved'));
    changed();
  }

  const target = (o: Override) =>
    o.scope === 'role' ? (
      (roles.data?.find((r) => r.id === o.target_id)?.name ?? o.target_id)
    ) : (
      <Link to={`/users/${o.target_id}`}>{t('features.userNo', { id: o.target_id ?? '' })}</Link>
    );

  return (
    <div className="page">
      <PageHeader
        title={t('nav.features')}
        sub={t('features.sub')}
        actions={
          canCatalogue && (
            <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
              {t('features.create')}
            </button>
          )
        }
      />
      <Loaded load={list} error={list.error ?? mine.error}>
        {(data) =>
          data.features.length === 0 ? (
            <p className="muted">{canCatalogue ? t('features.noneOperator') : t('features.none')}</p>
          ) : (
            <DataTable
              caption={t('nav.features')}
              columns={[
                { label: t('features.key') },
                { label: t('features.default'), hideSm: true },
                { label: t('features.tenant') },
                { label: t('features.others') },
                { label: t('features.forMe') },
                ...(canCatalogue ? [{ label: t('common.actions'), srOnly: true }] : []),
              ]}
            >
              {data.features.map((f) => {
                const tenant = f.overrides.find((o) => o.scope === 'tenant');
                const others = f.overrides.filter((o) => o.scope !== 'tenant');
                const value = tenant ? (tenant.enabled ? 'on' : 'off') : 'inherit';
                return (
                  <tr key={f.key}>
                    <td>
                      <code>{f.key}</code>
                      {f.description && <div className="muted small">{f.description}</div>}
                    </td>
                    <td className="hide-sm">
                      {onOff(f.default_enabled)}
                      {f.rollout_percent !== null && (
                        <span className="muted small"> · {f.rollout_percent} %</span>
                      )}
                    </td>
                    <td>
                      {canWrite ? (
                        <select
                          aria-label={t('features.tenantFor', { key: f.key })}
                          value={value}
                          onChange={(e) =>
                            void withErrorToast(() =>
                              saveOverride(
                                f.key,
                                { scope: 'tenant' },
                                e.target.value === 'inherit' ? null : e.target.value === 'on',
                              ),
                            )
                          }
                        >
                          <option value="inherit">{t('features.inherit')}</option>
                          <option value="on">{t('features.on')}</option>
                          <option value="off">{t('features.off')}</option>
                        </select>
                      ) : (
                        <span>{tenant ? onOff(tenant.enabled) : t('features.inherit')}</span>
                      )}
                    </td>
                    <td className="small">
                      <ul className="overrides">
                        {others.map((o) => (
                          <li key={`${o.scope}:${o.target_id}`}>
                            <span>
                              {o.scope === 'role' ? t('features.role') : t('features.user')} {target(o)}:{' '}
                              {onOff(o.enabled)}
                            </span>
                            {canWrite && (
                              <button
                                type="button"
                                className="btn-icon"
                                aria-label={t('features.removeOverride', {
                                  key: f.key,
                                  scope: o.scope,
                                  target: o.target_id ?? '',
                                })}
                                onClick={() =>
                                  void withErrorToast(() =>
                                    saveOverride(
                                      f.key,
                                      { scope: o.scope as Scope, target_id: o.target_id ?? undefined },
                                      null,
                                    ),
                                  )
                                }
                              >
                                ×
                              </button>
                            )}
                          </li>
                        ))}
                      </ul>
                      {others.length === 0 && !canWrite && '—'}
                      {canWrite && (
                        <button
                          type="button"
                          className="btn btn-small"
                          aria-label={t('features.addOverrideFor', { key: f.key })}
                          onClick={() => setOverriding(f)}
                        >
                          {t('features.addOverride')}
                        </button>
                      )}
                    </td>
                    <td>
                      {mine.data ? (
                        mine.data.flags[f.key] ? (
                          <Badge kind="ok">{t('features.on')}</Badge>
                        ) : (
                          <Badge kind="muted">{t('features.off')}</Badge>
                        )
                      ) : (
                        '…'
                      )}
                    </td>
                    {canCatalogue && (
                      <td className="cell-actions">
                        <button
                          type="button"
                          className="btn btn-small"
                          aria-label={t('features.editNamed', { key: f.key })}
                          onClick={() => setEditing(f)}
                        >
                          {t('common.edit')}
                        </button>
                        <button
                          type="button"
                          className="btn btn-small btn-danger"
                          aria-label={t('features.deleteNamed', { key: f.key })}
                          onClick={() => setDeleting(f)}
                        >
                          {t('common.delete')}
                        </button>
                      </td>
                    )}
                  </tr>
                );
              })}
            </DataTable>
          )
        }
      </Loaded>
      <FlagDialog
        flag={editing}
        onClose={() => setEditing(null)}
        onSaved={() => {
          setEditing(null);
          changed();
        }}
      />
      <OverrideDialog
        flag={overriding}
        roles={roles.data ?? []}
        onClose={() => setOverriding(null)}
        onSave={async (key, body, enabled) => {
          await saveOverride(key, body, enabled);
          setOverriding(null);
        }}
      />
      <ConfirmFor
        item={deleting}
        title={t('features.delete')}
        body={(f) => t('features.deleteBody', { key: f.key })}
        action={t('common.delete')}
        confirmText={(f) => f.key}
        onConfirm={async (f) => {
          await call(api.DELETE('/api/v1/features/catalogue/{key}', { params: { path: { key: f.key } } }));
          toast(t('features.deleted', { key: f.key }));
          changed();
        }}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

/** Create a flag (its key fixed from then on) or change one: description, default, gradual rollout. */
function FlagDialog(props: { flag: Flag | 'new' | null; onClose: () => void; onSaved: () => void }) {
  const { flag } = props;
  const existing = flag !== null && flag !== 'new' ? flag : null;
  const { register, reset, getValues } = useForm({
    defaultValues: { key: '', description: '', on: false, rollout: '' },
  });
  return (
    <FormDialog
      open={flag !== null}
      title={existing ? t('features.editNamed', { key: existing.key }) : t('features.create')}
      onClose={props.onClose}
      onOpen={() =>
        reset(
          existing
            ? {
                key: existing.key,
                description: existing.description,
                on: existing.default_enabled,
                rollout: existing.rollout_percent === null ? '' : String(existing.rollout_percent),
              }
            : undefined,
        )
      }
      onSubmit={async () => {
        const fields = getValues();
        const settings = {
          description: fields.description.trim(),
          default_enabled: fields.on,
          rollout_percent: fields.rollout.trim() ? Number.parseInt(fields.rollout, 10) : null,
        };
        if (existing)
          await call(
            api.PUT('/api/v1/features/catalogue/{key}', {
              params: { path: { key: existing.key } },
              body: settings,
            }),
          );
        else
          await call(
            api.POST('/api/v1/features/catalogue', { body: { key: fields.key.trim(), ...settings } }),
          );
        toast(t('common.saved'));
        props.onSaved();
      }}
      submitLabel={existing ? t('common.save') : t('features.createSubmit')}
    >
      {!existing && (
        <TextField
          label={t('features.key')}
          hint={t('features.keyHint')}
          field="key"
          reg={register('key')}
          required
          maxLength={64}
          autoFocus
        />
      )}
      <TextArea
        label={t('features.description')}
        field="description"
        reg={register('description')}
        rows={2}
      />
      <Checkbox label={t('features.defaultOn')} reg={register('on')} />
      <TextField
        label={t('features.rollout')}
        hint={t('features.rolloutHint')}
        field="rollout_percent"
        type="number"
        min={0}
        max={100}
        reg={register('rollout')}
      />
    </FormDialog>
  );
}

/** An override of one flag for a role (picked among the tenant's roles) or a user (by email). */
function OverrideDialog(props: {
  flag: Flag | null;
  roles: { id: string; name: string; code: string }[];
  onClose: () => void;
  onSave: (
    key: string,
    body: { scope: 'role' | 'user'; target_id: string | number },
    enabled: boolean,
  ) => Promise<void>;
}) {
  const { flag, roles } = props;
  const { register, reset, getValues, setValue, watch } = useForm({
    defaultValues: {
      scope: (roles.length > 0 ? 'role' : 'user') as 'role' | 'user',
      role: '',
      email: '',
      value: 'on' as OnOff,
    },
  });
  // No role picked yet: the first one, as the select shows it.
  const role = watch('role') || roles[0]?.id || '';
  const scope = watch('scope');
  return (
    <FormDialog
      open={flag !== null}
      title={flag ? t('features.addOverrideFor', { key: flag.key }) : ''}
      onClose={props.onClose}
      onOpen={() => reset()}
      onSubmit={async () => {
        if (!flag) return;
        const fields = getValues();
        let target: string | number = role;
        if (fields.scope === 'user') {
          const email = fields.email.trim().toLowerCase();
          const found = await call(
            api.GET('/api/v1/users', { params: { query: { search: email, limit: 10 } } }),
          );
          const user = found.users.find((u) => u.email.toLowerCase() === email);
          if (!user) throw new Error(t('features.noSuchUser', { email }));
          target = user.id;
        }
        await props.onSave(flag.key, { scope: fields.scope, target_id: target }, fields.value === 'on');
      }}
      submitLabel={t('common.save')}
    >
      <Select<'role' | 'user'>
        label={t('features.overrideFor')}
        reg={register('scope')}
        options={[
          ...(roles.length > 0 ? [{ value: 'role' as const, label: t('features.role') }] : []),
          { value: 'user', label: t('features.user') },
        ]}
      />
      {scope === 'role' ? (
        <Select
          label={t('features.role')}
          field="target_id"
          value={role}
          onChange={(v) => setValue('role', v)}
          options={roles.map((r) => ({ value: r.id, label: `${r.name} (${r.code})` }))}
        />
      ) : (
        <TextField
          label={t('features.userEmail')}
          field="target_id"
          type="email"
          reg={register('email')}
          required
        />
      )}
      <Select<OnOff>
        label={t('features.value')}
        reg={register('value')}
        options={[
          { value: 'on', label: t('features.on') },
          { value: 'off', label: t('features.off') },
        ]}
      />
    </FormDialog>
  );
}
