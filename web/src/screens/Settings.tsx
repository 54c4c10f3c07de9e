/**
 * Tenant settings (tenants.manage): name, self-registration, MFA requirement, password policy, session
 * lifetimes, allowed IP ranges and audit retention. The API refuses IP ranges that would lock the caller out.
 */
import { useEffect, useState } from 'react';
import { api, call } from '../api/client';
import { t } from '../i18n';
import { useSession } from '../session';
import {
  Checkbox,
  ErrorText,
  Loading,
  PageHeader,
  Panel,
  TextArea,
  TextField,
  toast,
  useAsync,
  useSubmit,
} from '../ui';

interface Form {
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

export function SettingsScreen() {
  const session = useSession();
  const tenant = useAsync(() => call(api.GET('/api/v1/tenants/current')), []);
  const [form, setForm] = useState<Form | null>(null);
  const { busy, error, onSubmit } = useSubmit();

  useEffect(() => {
    const d = tenant.data;
    if (!d) return;
    const s = d.settings;
    setForm({
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
    });
  }, [tenant.data]);

  if (tenant.loading && !form) return <Loading />;
  if (!form)
    return (
      <div className="page">
        <PageHeader title={t('nav.settings')} />
        <ErrorText error={tenant.error} />
      </div>
    );
  const set =
    <K extends keyof Form>(k: K) =>
    (v: Form[K]) =>
      setForm((f) => (f ? { ...f, [k]: v } : f));

  return (
    <div className="page">
      <PageHeader
        title={t('nav.settings')}
        sub={tenant.data ? `${tenant.data.slug} · #${tenant.data.id}` : undefined}
      />
      <form
        className="settings"
        onSubmit={onSubmit(async () => {
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
          tenant.reload();
          await session.reloadUser();
        })}
      >
        <Panel id="s-general" title={t('settings.general')}>
          <TextField
            label={t('settings.name')}
            value={form.name}
            onChange={set('name')}
            required
            maxLength={200}
          />
          <Checkbox
            label={t('settings.selfRegistration')}
            checked={form.self_registration}
            onChange={set('self_registration')}
          />
          <Checkbox
            label={t('settings.mfaRequired')}
            hint={t('settings.mfaRequiredHint')}
            checked={form.mfa_required}
            onChange={set('mfa_required')}
          />
        </Panel>
        <Panel id="s-password" title={t('settings.passwordPolicy')}>
          <div className="row2">
            <TextField
              label={t('settings.minLength')}
              type="number"
              min={8}
              max={128}
              value={form.min_length}
              onChange={set('min_length')}
              required
            />
            <TextField
              label={t('settings.requireClasses')}
              hint={t('settings.requireClassesHint')}
              type="number"
              min={0}
              max={4}
              value={form.require_classes}
              onChange={set('require_classes')}
              required
            />
          </div>
          <Checkbox
            label={t('settings.checkCommon')}
            checked={form.check_common}
            onChange={set('check_common')}
          />
          <Checkbox
            label={t('settings.checkBreached')}
            checked={form.check_breached}
            onChange={set('check_breached')}
          />
        </Panel>
        <Panel id="s-sessions" title={t('settings.sessions')}>
          <p className="hint">{t('settings.secondsHint')}</p>
          <div className="row2">
            <TextField
              label={t('settings.accessTtl')}
              type="number"
              min={60}
              max={86400}
              value={form.access_ttl}
              onChange={set('access_ttl')}
              required
            />
            <TextField
              label={t('settings.refreshTtl')}
              type="number"
              min={300}
              value={form.refresh_ttl}
              onChange={set('refresh_ttl')}
              required
            />
            <TextField
              label={t('settings.absoluteTtl')}
              type="number"
              min={300}
              value={form.absolute_ttl}
              onChange={set('absolute_ttl')}
              required
            />
            <TextField
              label={t('settings.idleTtl')}
              hint={t('settings.idleHint')}
              type="number"
              min={60}
              value={form.idle_ttl}
              onChange={set('idle_ttl')}
            />
          </div>
        </Panel>
        <Panel id="s-network" title={t('settings.network')}>
          <TextArea
            label={t('settings.allowedIps')}
            hint={t('settings.allowedIpsHint')}
            value={form.allowed_ip_ranges}
            onChange={set('allowed_ip_ranges')}
            rows={3}
          />
          <TextField
            label={t('settings.retention')}
            hint={t('settings.retentionHint')}
            type="number"
            min={1}
            max={3650}
            value={form.audit_retention_days}
            onChange={set('audit_retention_days')}
          />
        </Panel>
        <ErrorText error={error} />
        <div className="actions actions-left sticky-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {t('settings.save')}
          </button>
        </div>
      </form>
    </div>
  );
}
