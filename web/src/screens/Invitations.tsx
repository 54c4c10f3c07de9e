/**
 * Invitations (issue 20 item 9): an administrator invites someone by email with roles (only roles they could
 * grant themselves: the API refuses the others), sees the pending invitations, resends or revokes them; the
 * invited person opens the mail's link, `/admin/accept-invite?token=…`, and sets a password (or signs in through
 * the organisation's SSO when the address belongs to it).
 */
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { api, call } from '../api/client';
import { useGrantable } from '../grantable';
import { t } from '../i18n';
import type { MessageKey } from '../messages';
import { useSession } from '../session';
import { DataTable, EmptyRow } from '../table';
import {
  ConfirmFor,
  checkRepeated,
  Form,
  FormCheckList,
  FormDialog,
  fmtDate,
  Link,
  Loaded,
  NewPasswordFields,
  Panel,
  TextField,
  toast,
  useAsync,
  useSubmit,
  withErrorToast,
} from '../ui';
import { SignedOutCard, SubmitStep } from './SignIn';

type Invitation = { id: string; email: string; role_ids: string[]; expires_at: string; status: string };

/** The pending invitations of the tenant, with resend and revoke (`users.write`). */
export function InvitationsPanel({ version }: { version: number }) {
  const session = useSession();
  const list = useAsync(
    () => call(api.GET('/api/v1/invitations', { params: { query: { status: 'pending', limit: 100 } } })),
    [version],
  );
  const [revoking, setRevoking] = useState<Invitation | null>(null);
  const canWrite = session.can('users.write');
  return (
    <Panel id="invitations-h" title={t('invite.pending')}>
      <Loaded load={list}>
        {(data) => (
          <DataTable
            caption={t('invite.pending')}
            columns={[
              { label: t('invite.email') },
              { label: t('invite.expires') },
              ...(canWrite ? [{ label: t('common.actions'), srOnly: true }] : []),
            ]}
          >
            {data.invitations.map((i) => (
              <tr key={i.id}>
                <td className="break">{i.email}</td>
                <td>{fmtDate(i.expires_at)}</td>
                {canWrite && (
                  <td className="cell-actions">
                    <button
                      type="button"
                      className="btn btn-small"
                      aria-label={t('invite.resendNamed', { email: i.email })}
                      onClick={() =>
                        withErrorToast(async () => {
                          await call(
                            api.POST('/api/v1/invitations/{id}/resend', {
                              params: { path: { id: i.id } },
                              body: {},
                            }),
                          );
                          toast(t('invite.resent', { email: i.email }));
                          list.reload();
                        })
                      }
                    >
                      {t('invite.resend')}
                    </button>
                    <button
                      type="button"
                      className="btn btn-small btn-danger"
                      aria-label={t('invite.revokeNamed', { email: i.email })}
                      onClick={() => setRevoking(i)}
                    >
                      {t('invite.revoke')}
                    </button>
                  </td>
                )}
              </tr>
            ))}
            {data.invitations.length === 0 && <EmptyRow colSpan={canWrite ? 3 : 2} text={t('invite.none')} />}
          </DataTable>
        )}
      </Loaded>
      <ConfirmFor
        item={revoking}
        title={t('invite.revoke')}
        body={(i) => t('invite.revokeBody', { email: i.email })}
        action={t('invite.revoke')}
        onConfirm={async (i) => {
          await call(api.DELETE('/api/v1/invitations/{id}', { params: { path: { id: i.id } } }));
          toast(t('invite.revoked'));
          list.reload();
        }}
        onClose={() => setRevoking(null)}
      />
    </Panel>
  );
}

/** Invite by email with roles the inviter may grant (owner never offered). */
export function InviteDialog(props: { open: boolean; onClose: () => void; onInvited: () => void }) {
  // The owner role is never offered by invitation.
  const roles = useGrantable(props.open).roles.filter((r) => r.code !== 'owner');
  const { register, control, reset, getValues } = useForm({
    defaultValues: { email: '', roleIds: new Set<string>() as ReadonlySet<string> },
  });
  return (
    <FormDialog
      open={props.open}
      title={t('invite.title')}
      onClose={props.onClose}
      onOpen={() => reset()}
      onSubmit={async () => {
        const fields = getValues();
        const inv = await call(
          api.POST('/api/v1/invitations', {
            body: { email: fields.email.trim(), role_ids: [...fields.roleIds] },
          }),
        );
        toast(t('invite.sent', { email: inv.email }));
        props.onInvited();
      }}
      submitLabel={t('invite.submit')}
    >
      <TextField
        label={t('invite.email')}
        field="email"
        type="email"
        reg={register('email')}
        required
        autoFocus
      />
      {roles.length > 0 && (
        <FormCheckList
          control={control}
          name="roleIds"
          legend={t('invite.roles')}
          items={roles.map((r) => ({ key: r.id, label: `${r.name} (${r.code})` }))}
        />
      )}
      <p className="hint">{t('invite.hint')}</p>
    </FormDialog>
  );
}

const INVALID: Record<string, MessageKey> = {
  INVITATION_EXPIRED: 'invite.expired',
  INVITATION_ALREADY_ACCEPTED: 'invite.used',
  INVITATION_REVOKED: 'invite.revokedLink',
};

/** The invited person's page: who invited them where, then a name and a password. */
export function AcceptInviteScreen() {
  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  const preview = useAsync(async () => {
    try {
      return {
        ok: true as const,
        ...(await call(api.GET('/api/v1/invitations/accept/{token}', { params: { path: { token } } }))),
      };
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      return { ok: false as const, reason: INVALID[code] ?? ('invite.invalid' as MessageKey) };
    }
  }, [token]);
  const [done, setDone] = useState(false);
  return (
    <SignedOutCard title={t('invite.acceptTitle')}>
      {done ? (
        <>
          <p className="notice" role="status">
            {t('invite.accepted')}
          </p>
          <Link to="/" className="signin-aside">
            {t('signin.back')}
          </Link>
        </>
      ) : (
        <Loaded load={preview}>
          {(p) =>
            p.ok ? (
              <AcceptForm
                token={token}
                email={p.email}
                organisation={p.tenant_name}
                sso={p.sso}
                onDone={() => setDone(true)}
              />
            ) : (
              <p className="error" role="alert">
                {t(p.reason)}
              </p>
            )
          }
        </Loaded>
      )}
    </SignedOutCard>
  );
}

function AcceptForm(props: {
  token: string;
  email: string;
  organisation: string;
  sso: boolean;
  onDone: () => void;
}) {
  const { register, handleSubmit } = useForm({ defaultValues: { first: '', last: '', next: '', again: '' } });
  const { busy, error, submit } = useSubmit();
  return (
    <Form
      className="stack"
      error={error}
      onSubmit={handleSubmit((fields) =>
        submit(async () => {
          checkRepeated(fields.next, fields.again);
          await call(
            api.POST('/api/v1/invitations/accept', {
              body: {
                token: props.token,
                password: fields.next,
                ...(fields.first.trim() ? { first_name: fields.first.trim() } : {}),
                ...(fields.last.trim() ? { last_name: fields.last.trim() } : {}),
              },
            }),
          );
          props.onDone();
        }),
      )}
    >
      <p>{t('invite.welcome', { email: props.email, organisation: props.organisation })}</p>
      {props.sso && <p className="hint">{t('invite.ssoHint')}</p>}
      <TextField label={t('invite.firstName')} field="first_name" reg={register('first')} maxLength={100} />
      <TextField label={t('invite.lastName')} field="last_name" reg={register('last')} maxLength={100} />
      <NewPasswordFields
        value={{ reg: register('next') }}
        repeated={{ reg: register('again') }}
        field="password"
      />
      <SubmitStep busy={busy} error={error} label={t('invite.acceptSubmit')} />
    </Form>
  );
}
