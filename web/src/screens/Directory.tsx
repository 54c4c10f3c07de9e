/**
 * Directory groups (docs/scim.md): the groups the identity provider pushes over SCIM, and the roles each one grants
 * its members. `directory.read` sees groups, members and mapped roles; `directory.write` maps roles (only roles the
 * admin could grant: the API refuses the others, and the dialog offers what the roles list shows). Groups
 * themselves are created, renamed and deleted by the identity provider only.
 */
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { api, call } from '../api/client';
import type { paths } from '../api/schema';
import { t } from '../i18n';
import { useSession } from '../session';
import { DataTable, EmptyRow } from '../table';
import { FormCheckList, FormDialog, fmtDate, Loaded, PageHeader, TextField, toast, useAsync } from '../ui';

type GroupSummary =
  paths['/api/v1/directory/groups']['get']['responses'][200]['content']['application/json']['groups'][number];

export function DirectoryScreen() {
  const session = useSession();
  const [search, setSearch] = useState('');
  const query = search.trim();
  const groups = useAsync(
    () => call(api.GET('/api/v1/directory/groups', { params: { query: query ? { search: query } : {} } })),
    [query],
  );
  const roles = useAsync(() => call(api.GET('/api/v1/roles')).catch(() => null), []);
  const [mapping, setMapping] = useState<GroupSummary | null>(null);
  const roleName = (id: string) => roles.data?.roles.find((r) => r.id === id)?.name ?? id;
  const canWrite = session.can('directory.write');
  return (
    <div className="page">
      <PageHeader title={t('nav.directory')} sub={t('directory.sub')} />
      <div className="filters">
        <TextField
          label={t('directory.search')}
          type="search"
          value={search}
          onChange={setSearch}
          name="search"
          maxLength={255}
        />
      </div>
      <Loaded load={groups}>
        {(data) => (
          <DataTable
            caption={t('nav.directory')}
            columns={[
              { label: t('directory.group') },
              { label: t('directory.externalId'), hideSm: true },
              { label: t('directory.members') },
              { label: t('directory.roles') },
              { label: t('directory.updated'), hideSm: true },
              ...(canWrite ? [{ label: t('directory.actions') }] : []),
            ]}
          >
            {data.groups.map((g) => (
              <tr key={g.id}>
                <td>{g.display_name}</td>
                <td className="hide-sm mono-sm break">{g.external_id ?? '—'}</td>
                <td>{g.member_count}</td>
                <td data-testid={`roles-${g.display_name}`}>
                  {g.role_ids.length ? g.role_ids.map(roleName).join(', ') : <span className="muted">—</span>}
                </td>
                <td className="hide-sm">{fmtDate(g.updated_at)}</td>
                {canWrite && (
                  <td>
                    <button type="button" className="btn btn-small" onClick={() => setMapping(g)}>
                      {t('directory.mapRoles')}
                    </button>
                  </td>
                )}
              </tr>
            ))}
            {data.groups.length === 0 && <EmptyRow colSpan={canWrite ? 6 : 5} text={t('directory.none')} />}
          </DataTable>
        )}
      </Loaded>
      <MapRolesDialog
        group={mapping}
        roles={roles.data?.roles ?? []}
        onClose={() => setMapping(null)}
        onSaved={() => {
          setMapping(null);
          groups.reload();
        }}
      />
    </div>
  );
}

/** The roles a group's membership grants: one checkbox per role of the tenant (owner is never offered). */
function MapRolesDialog(props: {
  group: GroupSummary | null;
  roles: { id: string; code: string; name: string }[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const g = props.group;
  const { control, reset, getValues } = useForm({
    defaultValues: { roleIds: new Set<string>() as ReadonlySet<string> },
  });
  const offered = props.roles.filter((r) => r.code !== 'owner');
  return (
    <FormDialog
      open={g !== null}
      title={g ? t('directory.mapTitle', { name: g.display_name }) : ''}
      onClose={props.onClose}
      onOpen={() => reset({ roleIds: new Set(g?.role_ids ?? []) })}
      onSubmit={async () => {
        if (!g) return;
        await call(
          api.PUT('/api/v1/directory/groups/{id}/roles', {
            params: { path: { id: g.id } },
            body: { role_ids: [...getValues('roleIds')] },
          }),
        );
        toast(t('directory.mapped', { name: g.display_name }));
        props.onSaved();
      }}
      submitLabel={t('common.save')}
    >
      <p className="hint">{t('directory.mapHint')}</p>
      <FormCheckList
        control={control}
        name="roleIds"
        legend={t('directory.roles')}
        items={offered.map((r) => ({ key: r.id, label: `${r.name} (${r.code})` }))}
      />
    </FormDialog>
  );
}
