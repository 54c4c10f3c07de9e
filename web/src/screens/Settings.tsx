/**
 * Tenant settings (tenants.manage): name, self-registration, MFA requirement, password policy, session
 * lifetimes, allowed IP ranges and audit retention. The API refuses IP ranges that would lock the caller out.
 */
import { useForm } from 'react-hook-form';
import { api, call } from '../api/client';
import { t } from '../i18n';
import type { MessageKey } from '../messages';
import { useSession } from '../session';
import {
  Checkbox,
  ErrorText,
  Form,
  FormEnd,
  Loading,
  PageHeader,
  Panel,
  TextArea,
  TextField,
  toast,
  useAsync,
  useSubmit,
} from '../ui';

interface SettingsFields {
  name: string;
  self_registration: boolean;
  mfa_required: boolean;
  min_length: string;
  require_classes: string;
  check_common: boolean;
  check_breached: boolean;
  access_ttl: string;
  refresh_ttl: string;
  absolute_ttl: string;
  idle_ttl: string;
  allowed_ip_ranges: string;
  audit_retention_days: string;
}

const int = (s: string) => Number.parseInt(s, 10);

type Tenant = Awaited<ReturnType<typeof loadTenant>>;
function loadTenant() {
  return call(api.GET('/api/v1/tenants/current'));
}

function formOf(d: Tenant): SettingsFields {
  const s = d.settings;
  return {
    name: d.name,
    self_registration: s.self_registration,
    mfa_required: s.mfa_required,
    min_length: String(s.password_policy.min_length),
    require_classes: String(s.password_policy.require_classes),
    check_common: s.password_policy.check_common,
    check_breached: s.password_policy.check_breached,
    access_ttl: String(s.session.access_ttl),
    refresh_ttl: String(s.session.refresh_ttl),
    absolute_ttl: String(s.session.absolute_ttl),
    idle_ttl: s.session.idle_ttl === null ? '' : String(s.session.idle_ttl),
    allowed_ip_ranges: s.allowed_ip_ranges.join('\n'),
    audit_retention_days: s.audit_retention_days === null ? '' : String(s.audit_retention_days),
  };
}

/** A setting typed as a whole number: its bounds are the API's, so the browser refuses what the API would. */
interface NumberSetting {
  key: 'min_length' | 'require_classes' | 'access_ttl' | 'refresh_ttl' | 'absolute_ttl' | 'idle_ttl';
  /** Where the API holds it (and names it in a field error): settings.<group>.<key>. */
  group: 'password_policy' | 'session';
  label: MessageKey;
  hint?: MessageKey;
  min: number;
  max?: number;
  /** Optional ones may be left empty: no limit. */
  optional?: boolean;
}

const PASSWORD_NUMBERS: NumberSetting[] = [
  { key: 'min_length', group: 'password_policy', label: 'settings.minLength', min: 8, max: 128 },
  {
    key: 'require_classes',
    group: 'password_policy',
    label: 'settings.requireClasses',
    hint: 'settings.requireClassesHint',
    min: 0,
    max: 4,
  },
];

const SESSION_NUMBERS: NumberSetting[] = [
  { key: 'access_ttl', group: 'session', label: 'settings.accessTtl', min: 60, max: 86400 },
  { key: 'refresh_ttl', group: 'session', label: 'settings.refreshTtl', min: 300 },
  { key: 'absolute_ttl', group: 'session', label: 'settings.absoluteTtl', min: 300 },
  {
    key: 'idle_ttl',
    group: 'session',
    label: 'settings.idleTtl',
    hint: 'settings.idleHint',
    min: 60,
    optional: true,
  },
];

export function SettingsScreen() {
  const tenant = useAsync(loadTenant, []);
  if (tenant.loading && !tenant.data) return <Loading />;
  if (!tenant.data)
    return (
      <div className="page">
        <PageHeader title={t('nav.settings')} />
        <ErrorText error={tenant.error} />
      </div>
    );
  return <SettingsForm tenant={tenant.data} onSaved={tenant.reload} />;
}

function SettingsForm(props: { tenant: Tenant; onSaved: () => void }) {
  const session = useSession();
  // `values`: filled again when the tenant is reloaded after saving (the API returns what it normalised).
  const { register, handleSubmit } = useForm({ values: formOf(props.tenant) });
  const { busy, error, submit } = useSubmit();

  const numbers = (list: NumberSetting[]) =>
    list.map((n) => (
      <TextField
        key={n.key}
        label={t(n.label)}
        hint={n.hint && t(n.hint)}
        type="number"
        min={n.min}
        max={n.max}
        field={`settings.${n.group}.${n.key}`}
        reg={register(n.key)}
        required={!n.optional}
      />
    ));

  return (
    <div className="page">
      <PageHeader title={t('nav.settings')} sub={`${props.tenant.slug} · #${props.tenant.id}`} />
      <Form
        className="settings"
        error={error}
        onSubmit={handleSubmit((form) =>
          submit(async () => {
            await call(
              api.PATCH('/api/v1/tenants/current', {
                body: {
                  name: form.name.trim(),
                  settings: {
                    self_registration: form.self_registration,
                    mfa_required: form.mfa_required,
                    password_policy: {
                      min_length: int(form.min_length),
                      require_classes: int(form.require_classes),
                      check_common: form.check_common,
                      check_breached: form.check_breached,
                    },
                    session: {
                      access_ttl: int(form.access_ttl),
                      refresh_ttl: int(form.refresh_ttl),
                      absolute_ttl: int(form.absolute_ttl),
                      idle_ttl: form.idle_ttl.trim() ? int(form.idle_ttl) : null,
                    },
                    allowed_ip_ranges: form.allowed_ip_ranges
                      .split(/[\s,]+/)
                      .map((x) => x.trim())
                      .filter(Boolean),
                    audit_retention_days: form.audit_retention_days.trim()
                      ? int(form.audit_retention_days)
                      : null,
                  },
                },
              }),
            );
            toast(t('settings.saved'));
            props.onSaved();
            await session.reloadUser();
          }),
        )}
      >
        <Panel id="s-general" title={t('settings.general')}>
          <TextField
            label={t('settings.name')}
            field="name"
            reg={register('name')}
            required
            maxLength={200}
          />
          <Checkbox label={t('settings.selfRegistration')} reg={register('self_registration')} />
          <Checkbox
            label={t('settings.mfaRequired')}
            hint={t('settings.mfaRequiredHint')}
            reg={register('mfa_required')}
          />
        </Panel>
        <Panel id="s-password" title={t('settings.passwordPolicy')}>
          <div className="row2">{numbers(PASSWORD_NUMBERS)}</div>
          <Checkbox label={t('settings.checkCommon')} reg={register('check_common')} />
          <Checkbox label={t('settings.checkBreached')} reg={register('check_breached')} />
        </Panel>
        <Panel id="s-sessions" title={t('settings.sessions')}>
          <p className="hint">{t('settings.secondsHint')}</p>
          <div className="row2">{numbers(SESSION_NUMBERS)}</div>
        </Panel>
        <Panel id="s-network" title={t('settings.network')}>
          <TextArea
            label={t('settings.allowedIps')}
            hint={t('settings.allowedIpsHint')}
            field="settings.allowed_ip_ranges"
            reg={register('allowed_ip_ranges')}
            rows={3}
          />
          <TextField
            label={t('settings.retention')}
            hint={t('settings.retentionHint')}
            type="number"
            min={1}
            max={3650}
            field="settings.audit_retention_days"
            reg={register('audit_retention_days')}
          />
        </Panel>
        <FormEnd error={error} busy={busy} label={t('settings.save')} className="sticky-actions" />
      </Form>
    </div>
  );
}
