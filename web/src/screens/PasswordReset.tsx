/**
 * The two signed-out pages of a forgotten password: ask for a link (the API answers the same whether the address
 * exists or not, so the page does too), and set a new password from the link the mail carries,
 * `/admin/reset-password?token=…` (the token is checked first, so a used or expired link says so at once).
 */
import { useState } from 'react';
import { api, call } from '../api/client';
import { useFields } from '../form-state';
import { t } from '../i18n';
import type { MessageKey } from '../messages';
import { useSession } from '../session';
import { Form, Link, Loaded, PasswordField, TextField, useAsync, useSubmit } from '../ui';
import { rememberedTenant, SignedOutCard, SubmitStep } from './SignIn';

export function ForgotPasswordScreen() {
  const session = useSession();
  const { fields, set } = useFields({ tenant: rememberedTenant(session.config.default_tenant), email: '' });
  const [sent, setSent] = useState<string | null>(null);
  const { busy, error, onSubmit } = useSubmit();
  return (
    <SignedOutCard title={t('reset.forgotTitle')}>
      {sent ? (
        <p className="notice" role="status">
          {sent}
        </p>
      ) : (
        <Form
          className="stack"
          error={error}
          onSubmit={onSubmit(async () => {
            const res = await call(
              api.POST('/api/v1/password-reset/request', {
                params: { header: { 'x-tenant-id': fields.tenant.trim() } },
                body: { email: fields.email },
              }),
            );
            setSent(res.message);
          })}
        >
          <p>{t('reset.forgotHelp')}</p>
          <TextField
            label={t('signin.tenant')}
            hint={t('signin.tenantHint')}
            value={fields.tenant}
            onChange={set('tenant')}
            required
            autoComplete="organization"
            field="x-tenant-id"
          />
          <TextField
            label={t('signin.email')}
            type="email"
            value={fields.email}
            onChange={set('email')}
            required
            autoComplete="username"
            name="email"
          />
          <SubmitStep busy={busy} error={error} label={t('reset.send')} />
        </Form>
      )}
      <BackToSignIn />
    </SignedOutCard>
  );
}

const INVALID_REASON: Record<string, MessageKey> = {
  TOKEN_EXPIRED: 'reset.expired',
  TOKEN_ALREADY_USED: 'reset.used',
  INVALID_TOKEN: 'reset.invalid',
};

export function ResetPasswordScreen() {
  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  const check = useAsync(
    async () =>
      token
        ? (await call(api.GET('/api/v1/password-reset/validate/{token}', { params: { path: { token } } })))
            .data
        : { valid: false, reason: 'INVALID_TOKEN' as const },
    [token],
  );
  const [done, setDone] = useState(false);
  return (
    <SignedOutCard title={t('reset.title')}>
      {done ? (
        <p className="notice" role="status">
          {t('reset.done')}
        </p>
      ) : (
        <Loaded load={check}>
          {(v) =>
            v?.valid ? (
              <NewPasswordForm token={token} onDone={() => setDone(true)} />
            ) : (
              <>
                <p className="error" role="alert">
                  {t(INVALID_REASON[v?.reason ?? 'INVALID_TOKEN'] ?? 'reset.invalid')}
                </p>
                <Link to="/forgot-password" className="signin-aside">
                  {t('reset.again')}
                </Link>
              </>
            )
          }
        </Loaded>
      )}
      <BackToSignIn />
    </SignedOutCard>
  );
}

function NewPasswordForm({ token, onDone }: { token: string; onDone: () => void }) {
  const { fields, set } = useFields({ next: '', again: '' });
  const { busy, error, onSubmit } = useSubmit();
  return (
    <Form
      className="stack"
      error={error}
      onSubmit={onSubmit(async () => {
        if (fields.next !== fields.again) throw new Error(t('profile.mismatch'));
        await call(
          api.POST('/api/v1/password-reset/confirm', { body: { token, new_password: fields.next } }),
        );
        onDone();
      })}
    >
      <PasswordField
        label={t('profile.newPassword')}
        value={fields.next}
        onChange={set('next')}
        required
        autoComplete="new-password"
        field="new_password"
        autoFocus
      />
      <PasswordField
        label={t('profile.repeatPassword')}
        value={fields.again}
        onChange={set('again')}
        required
        autoComplete="new-password"
      />
      <p className="hint">{t('reset.endsSessions')}</p>
      <SubmitStep busy={busy} error={error} label={t('reset.submit')} />
    </Form>
  );
}

function BackToSignIn() {
  return (
    <Link to="/" className="signin-aside">
      {t('signin.back')}
    </Link>
  );
}
