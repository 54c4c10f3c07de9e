/**
 * Roles and permissions: the roles as a tree (a child inherits its parent's permissions), and for the selected
 * role its own permissions, the inherited ones (with the ancestor they come from) and the effective set the API
 * computes. System roles are read-only; custom roles can be created, edited and deleted with roles.write.
 */
import { useMemo, useState } from 'react';
import { Controller, useForm } from 'react-hook-form';
import { api, call } from '../api/client';
import { t } from '../i18n';
import { useSession } from '../session';
import {
  Badge,
  Checkbox,
  ConfirmFor,
  FormDialog,
  Loaded,
  PageHeader,
  Panel,
  Select,
  TextField,
  toast,
  useAsync,
  withMember,
} from '../ui';

type RoleT = {
  id: string;
  code: string;
  name: string;
  description: string | null;
  is_system: boolean;
  permissions: string[];
  parent_role_id: string | null;
  mfa_required: boolean;
};

function childrenOf(roles: RoleT[], parent: string | null): RoleT[] {
  return roles.filter((r) => (r.parent_role_id ?? null) === parent);
}

function TreeNode({
  role,
  roles,
  selected,
  onSelect,
}: {
  role: RoleT;
  roles: RoleT[];
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  const kids = childrenOf(roles, role.id);
  return (
    <li>
      <button
        type="button"
        className={selected === role.id ? 'tree-item tree-on' : 'tree-item'}
        aria-pressed={selected === role.id}
        onClick={() => onSelect(role.id)}
      >
        <span>{role.name}</span> <span className="mono-sm muted">{role.code}</span>{' '}
        {role.is_system && <Badge kind="muted">{t('roles.system')}</Badge>}
        {role.mfa_required && <Badge kind="info">MFA</Badge>}
      </button>
      {kids.length > 0 && (
        <ul>
          {kids.map((k) => (
            <TreeNode key={k.id} role={k} roles={roles} selected={selected} onSelect={onSelect} />
          ))}
        </ul>
      )}
    </li>
  );
}

/** Inherited permissions with the ancestor that grants them, walking up parent links (the API refuses cycles). */
function inherited(role: RoleT, byId: Map<string, RoleT>): { code: string; from: RoleT }[] {
  const out: { code: string; from: RoleT }[] = [];
  const seen = new Set<string>(role.permissions);
  let p = role.parent_role_id ? byId.get(role.parent_role_id) : undefined;
  const visited = new Set<string>();
  while (p && !visited.has(p.id)) {
    visited.add(p.id);
    for (const c of p.permissions) {
      if (!seen.has(c)) {
        seen.add(c);
        out.push({ code: c, from: p });
      }
    }
    p = p.parent_role_id ? byId.get(p.parent_role_id) : undefined;
  }
  return out;
}

export function RolesScreen() {
  const session = useSession();
  const roles = useAsync(() => call(api.GET('/api/v1/roles')), []);
  const catalogue = useAsync(() => call(api.GET('/api/v1/permissions')), []);
  const [selected, setSelected] = useState<string | null>(null);
  const [editing, setEditing] = useState<RoleT | 'new' | null>(null);
  const [deleting, setDeleting] = useState<RoleT | null>(null);
  const list = (roles.data?.roles ?? []) as RoleT[];
  const byId = useMemo(() => new Map(list.map((r) => [r.id, r])), [list]);
  const current = selected ? byId.get(selected) : list[0];
  const full = useAsync(
    () =>
      current
        ? call(api.GET('/api/v1/roles/{id}', { params: { path: { id: current.id } } }))
        : Promise.resolve(null),
    [current?.id, roles.data],
  );
  const canWrite = session.can('roles.write');
  const describe = new Map((catalogue.data?.permissions ?? []).map((p) => [p.code, p.description]));

  return (
    <div className="page">
      <PageHeader
        title={t('nav.roles')}
        sub={t('roles.sub')}
        actions={
          canWrite && (
            <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
              {t('roles.create')}
            </button>
          )
        }
      />
      <Loaded load={roles} error={roles.error ?? catalogue.error}>
        {() => (
          <div className="split">
            <Panel id="tree-h" title={t('roles.tree')}>
              <ul className="tree">
                {childrenOf(list, null).map((r) => (
                  <TreeNode
                    key={r.id}
                    role={r}
                    roles={list}
                    selected={current?.id ?? null}
                    onSelect={setSelected}
                  />
                ))}
              </ul>
            </Panel>
            {current && (
              <section className="panel" aria-labelledby="role-h">
                <div className="panel-head">
                  <h2 id="role-h">
                    {current.name} <span className="mono-sm muted">{current.code}</span>
                  </h2>
                  {canWrite && !current.is_system && (
                    <div className="actions">
                      <button type="button" className="btn btn-small" onClick={() => setEditing(current)}>
                        {t('common.edit')}
                      </button>
                      <button
                        type="button"
                        className="btn btn-small btn-danger"
                        onClick={() => setDeleting(current)}
                      >
                        {t('common.delete')}
                      </button>
                    </div>
                  )}
                </div>
                {current.description && <p>{current.description}</p>}
                {current.parent_role_id && (
                  <p className="muted">
                    {t('roles.inherits', { parent: byId.get(current.parent_role_id)?.name ?? '?' })}
                  </p>
                )}
                <h3>{t('roles.own')}</h3>
                <ul className="perm-list">
                  {current.permissions.map((c) => (
                    <li key={c}>
                      <code>{c}</code>{' '}
                      <span className="muted">
                        {describe.get(c) ?? (c.includes('*') ? t('roles.wildcard') : '')}
                      </span>
                    </li>
                  ))}
                  {current.permissions.length === 0 && <li className="muted">{t('roles.none')}</li>}
                </ul>
                {inherited(current, byId).length > 0 && (
                  <>
                    <h3>{t('roles.inherited')}</h3>
                    <ul className="perm-list">
                      {inherited(current, byId).map(({ code, from }) => (
                        <li key={code}>
                          <code>{code}</code> <span className="muted">← {from.name}</span>
                        </li>
                      ))}
                    </ul>
                  </>
                )}
                {full.data && (
                  <details className="effective">
                    <summary>{t('roles.effective', { n: full.data.effective_permissions.length })}</summary>
                    <p className="mono-sm">{full.data.effective_permissions.join(' · ')}</p>
                  </details>
                )}
              </section>
            )}
          </div>
        )}
      </Loaded>
      <RoleDialog
        role={editing === 'new' ? null : editing}
        open={editing !== null}
        roles={list}
        catalogue={(catalogue.data?.permissions ?? []).filter((p) => !p.platform_only)}
        onClose={() => setEditing(null)}
        onSaved={(id) => {
          setEditing(null);
          setSelected(id);
          roles.reload();
        }}
      />
      <ConfirmFor
        item={deleting}
        title={t('roles.delete')}
        body={(r) => t('roles.deleteBody', { role: r.name })}
        action={t('common.delete')}
        onConfirm={async (r) => {
          await call(api.DELETE('/api/v1/roles/{id}', { params: { path: { id: r.id } } }));
          toast(t('roles.deleted', { role: r.name }));
          setSelected(null);
          roles.reload();
        }}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

/** The role dialog's fields: a role's values to edit it, blanks (null) to create one. */
function roleFields(r: RoleT | null) {
  return {
    code: r?.code ?? '',
    name: r?.name ?? '',
    description: r?.description ?? '',
    parent: r?.parent_role_id ?? '',
    perms: new Set(r?.permissions ?? []) as ReadonlySet<string>,
    mfa: r?.mfa_required ?? false,
  };
}

function RoleDialog(props: {
  open: boolean;
  role: RoleT | null;
  roles: RoleT[];
  catalogue: { code: string; description: string }[];
  onClose: () => void;
  onSaved: (id: string) => void;
}) {
  const { register, control, reset, getValues } = useForm({ defaultValues: roleFields(null) });
  const groups = new Map<string, { code: string; description: string }[]>();
  for (const p of props.catalogue) {
    const g = p.code.split('.')[0]!;
    groups.set(g, [...(groups.get(g) ?? []), p]);
  }
  return (
    <FormDialog
      open={props.open}
      title={props.role ? t('roles.edit') : t('roles.create')}
      onClose={props.onClose}
      onOpen={() => reset(roleFields(props.role))}
      onSubmit={async () => {
        const { code, name, description, parent, perms, mfa } = getValues();
        const body = {
          name,
          description: description.trim() || null,
          permissions: [...perms].sort(),
          parent_role_id: parent || null,
          mfa_required: mfa,
        };
        const saved = props.role
          ? await call(api.PUT('/api/v1/roles/{id}', { params: { path: { id: props.role.id } }, body }))
          : await call(api.POST('/api/v1/roles', { body: { ...body, code } }));
        toast(t('common.saved'));
        props.onSaved(saved.id);
      }}
      submitLabel={t('common.save')}
      wide
    >
      <div className="row2">
        <TextField
          label={t('roles.code')}
          field="code"
          hint={t('roles.codeHint')}
          reg={register('code')}
          required
          disabled={props.role !== null}
          pattern="[a-z][a-z0-9_.\-]{1,62}"
          autoFocus={props.role === null}
        />
        <TextField label={t('roles.name')} field="name" reg={register('name')} required maxLength={100} />
      </div>
      <TextField
        label={t('roles.description')}
        field="description"
        reg={register('description')}
        maxLength={500}
      />
      <Select
        label={t('roles.parent')}
        reg={register('parent')}
        options={[
          { value: '', label: t('roles.noParent') },
          ...props.roles
            .filter((r) => r.id !== props.role?.id)
            .map((r) => ({ value: r.id, label: `${r.name} (${r.code})` })),
        ]}
      />
      <Checkbox label={t('roles.mfaRequired')} reg={register('mfa')} />
      <fieldset className="perm-grid">
        <legend>{t('roles.permissions')}</legend>
        <Controller
          control={control}
          name="perms"
          render={({ field: { value: perms, onChange } }) => (
            <>
              {[...groups.entries()].map(([g, items]) => (
                <div key={g} className="perm-group">
                  <p className="perm-group-name">{g}</p>
                  {items.map((p) => (
                    <Checkbox
                      key={p.code}
                      label={p.code}
                      hint={p.description}
                      checked={perms.has(p.code)}
                      onChange={(on) => onChange(withMember(perms, p.code, on))}
                    />
                  ))}
                </div>
              ))}
            </>
          )}
        />
      </fieldset>
    </FormDialog>
  );
}
