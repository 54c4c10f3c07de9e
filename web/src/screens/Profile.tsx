/**
 * My profile: name and phone, password change, the authenticator app (setup with a QR code, recovery codes,
 * turning it off) and security keys (WebAuthn). A user whose tenant or role requires MFA lands here until
 * they have enrolled.
 */
import { browserSupportsWebAuthn, startRegistration } from '@simplewebauthn/browser';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { api, call } from '../api/client';
import { t, tn } from '../i18n';
import { NameFields, PhoneField } from '../person-fields';
import { useSession } from '../session';
import {
  Badge,
  ConfirmDialog,
  CopyButton,
  checkRepeated,
  ErrorText,
  Form,
  FormEnd,
  fmtDate,
  Loading,
  NewPasswordFields,
  OneTimeCodeField,
  PageHeader,
  Panel,
  PasswordField,
  TextField,
  toast,
  useAsync,
  useSubmit,
} from '../ui';

export function ProfileScreen() {
  const session = useSession();
  const enrolling = session.user?.enrolling ?? false;
  return (
    <div className="page">
      <PageHeader title={t('nav.profile')} sub={session.user?.me.email} />
      {enrolling && (
        <p className="notice notice-warn" role="status">
          {t('profile.enrolRequired')}
        </p>
      )}
      <div className="grid2">
        {!enrolling && <ProfileForm />}
        {!enrolling && <PasswordForm />}
      </div>
      {session.hasFeature('mfa') && <TotpPanel />}
      {session.hasFeature('mfa') && !enrolling && <SecurityKeysPanel />}
    </div>
  );
}

function ProfileForm() {
  const me = useAsync(() => call(api.GET('/api/v1/users/me')), []);
  // `values`: filled from the record when it loads, and again when a reload after saving returns it normalised.
  const { register, handleSubmit } = useForm({
    defaultValues: { first: '', last: '', phone: '' },
    values: me.data && {
      first: me.data.first_name ?? '',
      last: me.data.last_name ?? '',
      phone: me.data.phone ?? '',
    },
  });
  const { error, submit } = useSubmit();
  return (
    <Panel id="p-h" title={t('profile.details')}>
      {me.loading && !me.data && <Loading />}
      <Form
        className="stack"
        error={error}
        onSubmit={handleSubmit(({ first, last, phone }) =>
          submit(async () => {
            await call(
              api.PUT('/api/v1/users/me', {
                body: {
                  first_name: first.trim() || null,
                  last_name: last.trim() || null,
                  phone: phone.trim() || null,
                },
              }),
            );
            toast(t('common.saved'));
            me.reload();
          }),
        )}
      >
        <NameFields register={register} own />
        <PhoneField reg={register('phone')} own />
        <FormEnd error={error ?? me.error} label={t('common.save')} />
      </Form>
    </Panel>
  );
}

function PasswordForm() {
  const { register, handleSubmit, reset } = useForm({ defaultValues: { current: '', next: '', again: '' } });
  const { busy, error, submit } = useSubmit();
  return (
    <Panel id="pw-h" title={t('profile.password')}>
      <Form
        className="stack"
        error={error}
        onSubmit={handleSubmit(({ current, next, again }) =>
          submit(async () => {
            checkRepeated(next, again);
            await call(
              api.POST('/api/v1/auth/change-password', {
                body: { current_password: current, new_password: next },
              }),
            );
            toast(t('profile.passwordChanged'));
            reset();
          }),
        )}
      >
        <PasswordField
          label={t('profile.currentPassword')}
          reg={register('current')}
          required
          autoComplete="current-password"
          field="current_password"
        />
        <NewPasswordFields
          value={{ reg: register('next') }}
          repeated={{ reg: register('again') }}
          field="new_password"
        />
        <p className="hint">{t('profile.passwordHint')}</p>
        <FormEnd error={error} busy={busy} label={t('profile.changePassword')} />
      </Form>
    </Panel>
  );
}

function RecoveryCodes({ codes }: { codes: string[] }) {
  return (
    <div className="stack">
      <p className="notice notice-warn">{t('mfa.codesOnce')}</p>
      <ol className="codes" data-testid="recovery-codes">
        {codes.map((c) => (
          <li key={c} className="mono-sm">
            {c}
          </li>
        ))}
      </ol>
      <div>
        <CopyButton text={codes.join('\n')} label={t('mfa.copyCodes')} />
      </div>
    </div>
  );
}

function TotpPanel() {
  const session = useSession();
  const status = useAsync(() => call(api.GET('/api/v1/mfa/status')), []);
  const [setup, setSetup] = useState<{ secret: string; qr: string } | null>(null);
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);
  const [disabling, setDisabling] = useState(false);
  const [disableCode, setDisableCode] = useState('');
  const { error, onSubmit, submit } = useSubmit();

  async function start() {
    await submit(async () => {
      const s = await call(api.POST('/api/v1/mfa/setup'));
      setSetup({ secret: s.secret, qr: s.qr_code_base64 });
      setCodes(null);
    });
  }

  return (
    <section className="panel" aria-labelledby="totp-h">
      <div className="panel-head">
        <h2 id="totp-h">{t('mfa.title')}</h2>
        {status.data &&
          (status.data.enabled ? (
            <Badge kind="ok">{t('mfa.on')}</Badge>
          ) : (
            <Badge kind="warn">{t('mfa.off')}</Badge>
          ))}
      </div>
      <ErrorText error={status.error ?? error} />
      {status.data?.enabled && !codes && (
        <>
          <p>
            {t('mfa.enabledSince', { date: fmtDate(status.data.created_at) })}{' '}
            {tn('mfa.codesLeft', status.data.recovery_codes_remaining)}
          </p>
          <div className="actions actions-left">
            <RegenerateCodes
              onDone={(c) => {
                setCodes(c);
                status.reload();
              }}
            />
            <button type="button" className="btn btn-danger" onClick={() => setDisabling(true)}>
              {t('mfa.disable')}
            </button>
          </div>
        </>
      )}
      {codes && <RecoveryCodes codes={codes} />}
      {status.data && !status.data.enabled && !setup && (
        <>
          <p>{t('mfa.explain')}</p>
          <button type="button" className="btn btn-primary" onClick={() => void start()}>
            {t('mfa.setup')}
          </button>
        </>
      )}
      {setup && (
        <div className="totp-setup">
          <img
            className="qr"
            src={`data:image/png;base64,${setup.qr}`}
            alt={t('mfa.qrAlt')}
            width={200}
            height={200}
          />
          <form
            className="stack"
            onSubmit={onSubmit(async () => {
              const r = await call(
                api.POST('/api/v1/mfa/enable', { body: { code: code.replace(/\s/g, '') } }),
              );
              setCodes(r.recovery_codes);
              setSetup(null);
              setCode('');
              toast(t('mfa.enabled'));
              status.reload();
              await session.reloadUser();
            })}
          >
            <p>{t('mfa.scan')}</p>
            <p className="secret">
              <code className="secret-value" data-testid="totp-secret">
                {setup.secret}
              </code>
              <CopyButton text={setup.secret} />
            </p>
            <OneTimeCodeField
              kind="totp"
              label={t('mfa.code')}
              value={code}
              onChange={setCode}
              required
              name="totp"
            />
            <div className="actions actions-left">
              <button type="submit" className="btn btn-primary">
                {t('mfa.confirm')}
              </button>
              <button type="button" className="btn" onClick={() => setSetup(null)}>
                {t('common.cancel')}
              </button>
            </div>
          </form>
        </div>
      )}
      <CodeConfirmDialog
        open={disabling}
        action={t('mfa.disable')}
        body={t('mfa.disableBody')}
        code={disableCode}
        onCode={setDisableCode}
        onConfirm={async () => {
          await call(api.POST('/api/v1/mfa/disable', { body: { code: disableCode.replace(/\s/g, '') } }));
          setDisableCode('');
          setCodes(null);
          toast(t('mfa.disabled'));
          status.reload();
          await session.reloadUser();
        }}
        onClose={() => setDisabling(false)}
      />
    </section>
  );
}

/** Asks for a current code before an MFA change; the dialog's title is its action. */
function CodeConfirmDialog(props: {
  open: boolean;
  action: string;
  body: string;
  code: string;
  onCode: (code: string) => void;
  onConfirm: () => Promise<void>;
  onClose: () => void;
  danger?: boolean;
}) {
  return (
    <ConfirmDialog
      open={props.open}
      danger={props.danger}
      title={props.action}
      body={
        <>
          <p>{props.body}</p>
          <TextField
            label={t('mfa.code')}
            value={props.code}
            onChange={props.onCode}
            inputMode="numeric"
            autoComplete="one-time-code"
          />
        </>
      }
      action={props.action}
      onConfirm={props.onConfirm}
      onClose={props.onClose}
    />
  );
}

function RegenerateCodes({ onDone }: { onDone: (codes: string[]) => void }) {
  const [open, setOpen] = useState(false);
  const [code, setCode] = useState('');
  return (
    <>
      <button type="button" className="btn" onClick={() => setOpen(true)}>
        {t('mfa.regenerate')}
      </button>
      <CodeConfirmDialog
        open={open}
        danger={false}
        action={t('mfa.regenerate')}
        body={t('mfa.regenerateBody')}
        code={code}
        onCode={setCode}
        onConfirm={async () => {
          const r = await call(
            api.POST('/api/v1/mfa/recovery/regenerate', { body: { code: code.replace(/\s/g, '') } }),
          );
          setCode('');
          onDone(r.recovery_codes);
        }}
        onClose={() => setOpen(false)}
      />
    </>
  );
}

function SecurityKeysPanel() {
  const keys = useAsync(() => call(api.GET('/api/v1/mfa/webauthn/credentials')), []);
  const { register, handleSubmit, reset } = useForm({ defaultValues: { name: '' } });
  const { busy, error, submit, onClick } = useSubmit();
  const supported = browserSupportsWebAuthn();
  return (
    <Panel id="keys-h" title={t('keysw.title')}>
      <p className="hint">{t('keysw.explain')}</p>
      <ErrorText error={keys.error ?? error} />
      <ul className="list">
        {keys.data?.credentials.map((c) => (
          <li key={c.id} className="list-row">
            <span>
              <strong>{c.name}</strong>{' '}
              <span className="muted small">
                {t('keysw.added', { date: fmtDate(c.created_at) })} ·{' '}
                {t('keysw.used', { date: fmtDate(c.last_used_at) })}
              </span>
            </span>
            <button
              type="button"
              className="btn btn-small btn-danger"
              aria-label={t('keysw.removeNamed', { name: c.name })}
              onClick={onClick(async () => {
                await call(
                  api.DELETE('/api/v1/mfa/webauthn/credentials/{id}', { params: { path: { id: c.id } } }),
                );
                toast(t('keysw.removed'));
                keys.reload();
              })}
            >
              {t('common.remove')}
            </button>
          </li>
        ))}
        {keys.data?.credentials.length === 0 && <li className="muted">{t('keysw.none')}</li>}
      </ul>
      {supported ? (
        <form
          className="inline-form"
          onSubmit={handleSubmit(({ name }) =>
            submit(async () => {
              const options = await call(api.POST('/api/v1/mfa/webauthn/register/options'));
              const response = await startRegistration({ optionsJSON: options as never });
              await call(
                api.POST('/api/v1/mfa/webauthn/register/verify', {
                  body: { response: response as never, ...(name.trim() ? { name: name.trim() } : {}) },
                }),
              );
              toast(t('keysw.addedToast'));
              reset();
              keys.reload();
            }),
          )}
        >
          <TextField label={t('keysw.name')} reg={register('name')} maxLength={100} placeholder="YubiKey" />
          <button type="submit" className="btn" disabled={busy}>
            {t('keysw.add')}
          </button>
        </form>
      ) : (
        <p className="muted">{t('keysw.unsupported')}</p>
      )}
    </Panel>
  );
}
