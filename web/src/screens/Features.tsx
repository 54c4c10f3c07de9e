/**
 * Feature flags: the catalogue (platform operators maintain it), this tenant's overrides, and what the flags
 * resolve to for the signed-in user. Tenant-wide overrides are set and cleared here (features.write); role and
 * user overrides are listed.
 */
import { api, call } from '../api/client';
import { t } from '../i18n';
import { useSession } from '../session';
import { DataTable } from '../table';
import { Badge, Loaded, PageHeader, toast, useAsync, withErrorToast } from '../ui';

export function FeaturesScreen() {
  const session = useSession();
  const list = useAsync(() => call(api.GET('/api/v1/features')), []);
  const mine = useAsync(() => call(api.GET('/api/v1/features/evaluate')), []);
  const canWrite = session.can('features.write');

  function setTenant(key: string, enabled: boolean | null) {
    return withErrorToast(async () => {
      if (enabled === null) {
        await call(
          api.DELETE('/api/v1/features/{key}/overrides', {
            params: { path: { key } },
            body: { scope: 'tenant' },
          }),
        );
      } else {
        await call(
          api.PUT('/api/v1/features/{key}/overrides', {
            params: { path: { key } },
            body: { scope: 'tenant', enabled },
          }),
        );
      }
      toast(t('common.saved'));
      list.reload();
      mine.reload();
    });
  }

  return (
    <div className="page">
      <PageHeader title={t('nav.features')} sub={t('features.sub')} />
      <Loaded load={list} error={list.error ?? mine.error}>
        {(data) =>
          data.features.length === 0 ? (
            <p className="muted">{t('features.none')}</p>
          ) : (
            <DataTable
              caption={t('nav.features')}
              columns={[
                { label: t('features.key') },
                { label: t('features.default'), hideSm: true },
                { label: t('features.tenant') },
                { label: t('features.others'), hideSm: true },
                { label: t('features.forMe') },
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
                      {f.default_enabled ? t('features.on') : t('features.off')}
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
                            void setTenant(
                              f.key,
                              e.target.value === 'inherit' ? null : e.target.value === 'on',
                            )
                          }
                        >
                          <option value="inherit">{t('features.inherit')}</option>
                          <option value="on">{t('features.on')}</option>
                          <option value="off">{t('features.off')}</option>
                        </select>
                      ) : (
                        <span>
                          {value === 'inherit'
                            ? t('features.inherit')
                            : value === 'on'
                              ? t('features.on')
                              : t('features.off')}
                        </span>
                      )}
                    </td>
                    <td className="hide-sm small">
                      {others.length === 0
                        ? '—'
                        : others.map((o) => (
                            <div key={`${o.scope}:${o.target_id}`}>
                              {o.scope} {o.target_id}: {o.enabled ? t('features.on') : t('features.off')}
                            </div>
                          ))}
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
                  </tr>
                );
              })}
            </DataTable>
          )
        }
      </Loaded>
    </div>
  );
}
