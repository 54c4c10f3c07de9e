/**
 * The two signed-out pages of a forgotten password: ask for a link (the API answers the same whether the address
 * exists or not, so the page does too), and set a new password from the link the mail carries,
 * `/admin/reset-password?token=…` (the token is checked first, so a used or expired link says so at once).
 */
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { api, call } from '../api/client';
import { t } from '../i18n';
import type { MessageKey } from '../messages';
import { useSession } from '../session';
import { checkRepeated, Form, Link, Loaded, NewPasswordFields, useAsync, useSubmit } from '../ui';
import { AccountFields, rememberedTenant, SignedOutCard, SubmitStep } from './SignIn';

export function ForgotPasswordScreen() {
  const session = useSession();
  const { register, handleSubmit } = useForm({
    defaultValues: { tenant: rememberedTenant(session.config.default_tenant), email: '' },
  });
  const [sent, setSent] = useState<string | null>(null);
  const { busy, error, submit } = useSubmit();
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
          onSubmit={handleSubmit((fields) =>
            submit(async () => {
              const res = await call(
                api.POST('/api/v1/password-reset/request', {
                  params: { header: { 'x-tenant-id': fields.tenant.trim() } },
                  body: { email: fields.email },
                }),
              );
              setSent(res.message);
            }),
          )}
        >
          <p>{t('reset.forgotHelp')}</p>
          <AccountFields tenant={{ reg: register('tenant') }} email={{ reg: register('email') }} />
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
  const { register, handleSubmit } = useForm({ defaultValues: { next: '', again: '' } });
  const { busy, error, submit } = useSubmit();
  return (
    <Form
      className="stack"
      error={error}
      onSubmit={handleSubmit((fields) =>
        submit(async () => {
          checkRepeated(fields.next, fields.again);
          await call(
            api.POST('/api/v1/password-reset/confirm', { body: { token, new_password: fields.next } }),
          );
          onDone();
        }),
      )}
    >
      <NewPasswordFields
        value={{ reg: register('next') }}
        repeated={{ reg: register('again') }}
        field="new_password"
        autoFocus
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
