/** Small shared pieces: fields with labels, dialogs on the native <dialog>, toasts, async data, formatting. */
import {
  createContext,
  type FormEvent,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import {
  type Control,
  Controller,
  type FieldPathByValue,
  type FieldValues,
  type UseFormRegisterReturn,
} from 'react-hook-form';
import { ApiFailure } from './api/client';
import { currentLocale, t } from './i18n';
import type { MessageKey } from './messages';
import { BASE, navigate } from './router';

export function errorMessage(err: unknown): string {
  if (err instanceof ApiFailure) return err.message || err.code;
  if (err instanceof Error) return err.message;
  return String(err);
}

// ---- field-level errors: the API's details.errors (and a weak password's reasons) next to their fields -------
/** One field error, its text already in the admin's language; `field` is the API's path without `body.`. */
export interface FieldProblem {
  field: string;
  text: string;
}

/**
 * The field errors an API error carries: a 422 VALIDATION_ERROR's `details.errors` (field `body.email` →
 * `email`), and PASSWORD_TOO_WEAK's `details.reasons`, one entry per broken rule, on the field `password`
 * (a new-password field claims them, whatever its API name).
 */
export function fieldProblems(err: unknown): FieldProblem[] {
  if (!(err instanceof ApiFailure)) return [];
  const details = err.body.details ?? {};
  if (err.code === 'PASSWORD_TOO_WEAK' && Array.isArray(details.reasons))
    return details.reasons.map((r) => ({ field: PASSWORD_RULES, text: passwordRuleText(String(r)) }));
  // Permissions the caller may not hand on (a role, an OIDC client): said under the permissions' field.
  if (err.code === 'PERMISSION_DENIED' && Array.isArray(details.permissions))
    return details.permissions.map((p) => ({
      field: 'permissions',
      text: t('fielderr.notGrantable', { n: String(p) }),
    }));
  if (err.code !== 'VALIDATION_ERROR' || !Array.isArray(details.errors)) return [];
  return (details.errors as { field?: unknown; message?: unknown; type?: unknown }[]).map((e) => ({
    field: String(e.field ?? '').replace(/^(body|query|querystring|params|headers)\.?/, ''),
    text: fieldErrorText(String(e.message ?? ''), String(e.type ?? '')),
  }));
}

/** The pseudo field of the password rules a new password broke (PasswordField with autoComplete new-password). */
const PASSWORD_RULES = '#password-rules';

const PASSWORD_RULE_KEYS: Record<string, MessageKey> = {
  too_short: 'pwrule.too_short',
  too_long: 'pwrule.too_long',
  missing_uppercase: 'pwrule.missing_uppercase',
  missing_lowercase: 'pwrule.missing_lowercase',
  missing_digit: 'pwrule.missing_digit',
  missing_special: 'pwrule.missing_special',
  too_common: 'pwrule.too_common',
  contains_email: 'pwrule.contains_email',
  same_as_current: 'pwrule.same_as_current',
};

function passwordRuleText(reason: string): string {
  const key = PASSWORD_RULE_KEYS[reason];
  return key ? t(key) : reason;
}

/**
 * The API's field messages are English (Ajv's, and the services' own): the known ones are said in the admin's
 * language, with their numbers kept; anything else is shown as the API wrote it.
 */
const FIELD_MESSAGES: [RegExp, MessageKey][] = [
  [/^field required$|^required\b|^is required\b/, 'fielderr.required'],
  [/^unknown field$/, 'fielderr.unknown'],
  [/^must be in the future$/, 'fielderr.future'],
  [/^must NOT have fewer than (\d+) characters?$/, 'fielderr.minLength'],
  [/^must NOT have more than (\d+) characters?$/, 'fielderr.maxLength'],
  [/^must NOT have fewer than (\d+) items?$/, 'fielderr.minItems'],
  [/^must NOT have more than (\d+) items?$/, 'fielderr.maxItems'],
  [/^must be >= (-?[\d.]+)$/, 'fielderr.minimum'],
  [/^must be <= (-?[\d.]+)$/, 'fielderr.maximum'],
  [/^must match format "email"$/, 'fielderr.email'],
  [/^must match format "(?:uri|url)"$|^not an absolute URL$/, 'fielderr.url'],
  [/^must match format "date-time"$|^must be a date-time$/, 'fielderr.dateTime'],
  [/^must match format "uuid"$/, 'fielderr.uuid'],
  [/^must match pattern /, 'fielderr.pattern'],
  [/^must be equal to one of the allowed values$|^unknown scope/, 'fielderr.enum'],
  [/^must be (?:string|integer|number|boolean|array|object)/, 'fielderr.type'],
  [/^not an X\.509 certificate/, 'fielderr.certificate'],
  [/^not a CIDR range or IP address$/, 'fielderr.cidr'],
  [/^would lock out the caller's own address (\S+)$/, 'fielderr.lockout'],
  [/^must be at least (\w+)$/, 'fielderr.atLeast'],
  [/^must be https/, 'fielderr.https'],
  [/^must not contain NUL/, 'fielderr.characters'],
];

function fieldErrorText(message: string, type: string): string {
  for (const [re, key] of FIELD_MESSAGES) {
    const m = re.exec(message);
    if (m) return t(key, { n: m[1] ?? '' });
  }
  if (type === 'required') return t('fielderr.required');
  return message;
}

/** What a form shares with its fields: the submission's error, and which API fields have a control on show. */
interface FormErrors {
  error: unknown;
  shown: Map<string, number>;
}
const FormErrorsContext = createContext<FormErrors | null>(null);

/** The errors of one API field (or of a part of it, e.g. `allowed_ip_ranges.2` for `allowed_ip_ranges`). */
function useFieldProblems(field: FieldProps['field']): string[] {
  const form = useContext(FormErrorsContext);
  const fields = (Array.isArray(field) ? field : [field]).filter((f): f is string => Boolean(f));
  const key = fields.join('\n');
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the fields' names
  useEffect(() => {
    if (!form) return;
    for (const f of fields) form.shown.set(f, (form.shown.get(f) ?? 0) + 1);
    return () => {
      for (const f of fields) {
        const n = (form.shown.get(f) ?? 1) - 1;
        if (n > 0) form.shown.set(f, n);
        else form.shown.delete(f);
      }
    };
  }, [form, key]);
  if (!form || fields.length === 0) return [];
  return fieldProblems(form.error)
    .filter((p) => fields.some((f) => claims(f, p.field)))
    .map((p) => p.text);
}

/** Whether a control for API field `f` shows an error about `field` (itself or a part of it). */
const claims = (f: string, field: string) => field === f || field.startsWith(`${f}.`);

/**
 * A form whose submission error is shown where it belongs: each field error next to its field (see `Field`'s
 * `field`), and what no field on show claims in the form's ErrorText (or FormEnd).
 */
export function Form(props: {
  error: unknown;
  onSubmit: (e: FormEvent) => void;
  className?: string;
  role?: string;
  'aria-label'?: string;
  children: ReactNode;
}) {
  const shown = useRef(new Map<string, number>()).current;
  const { error, onSubmit, children, ...rest } = props;
  return (
    <FormErrorsContext.Provider value={{ error, shown }}>
      <form onSubmit={onSubmit} {...rest}>
        {children}
      </form>
    </FormErrorsContext.Provider>
  );
}

/** Loads data and tracks loading/error; `reload` re-runs it. */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller lists the dependencies of fn
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}

// ---- toasts: one polite live region for the whole app -------------------------------------------------
type Toast = { id: number; text: string; kind: 'ok' | 'error' };
let toasts: Toast[] = [];
let nextToast = 1;
const toastListeners = new Set<() => void>();
function emitToasts() {
  for (const l of toastListeners) l();
}
export function toast(text: string, kind: Toast['kind'] = 'ok') {
  const item = { id: nextToast++, text, kind };
  toasts = [...toasts, item];
  emitToasts();
  window.setTimeout(() => {
    toasts = toasts.filter((x) => x.id !== item.id);
    emitToasts();
  }, 5000);
}
/** Runs an action whose failure has no place on the page (a download, a toggle in a row): told in a toast. */
export async function withErrorToast(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    toast(errorMessage(err), 'error');
  }
}

export function Toasts() {
  const list = useSyncExternalStore(
    (cb) => {
      toastListeners.add(cb);
      return () => toastListeners.delete(cb);
    },
    () => toasts,
  );
  return (
    <div className="toasts" role="status" aria-live="polite">
      {list.map((x) => (
        <div key={x.id} className={`toast toast-${x.kind}`}>
          {x.text}
        </div>
      ))}
    </div>
  );
}

// ---- form fields ---------------------------------------------------------------------------------------
interface FieldProps {
  label: string;
  hint?: string;
  className?: string;
  /** The API field (`email`, `settings.session.refresh_ttl`) whose errors are shown under this control. */
  field?: string | (string | undefined)[];
}

/**
 * The ids that tie a control to its label (id) and to its hint and errors (hintId, for aria-describedby),
 * and whether the API refused its value (invalid, for aria-invalid).
 */
type ControlIds = { id: string; hintId: string | undefined; invalid: true | undefined };

/**
 * The frame of a labelled control: its label, the control, then its hint and the API's errors about it (in a
 * list when several: a password's broken rules). It makes the ids, so every control is named and described the
 * same way: `children` renders the control with them.
 */
function Field(props: FieldProps & { children: (ids: ControlIds) => ReactNode }) {
  const id = useId();
  const problems = useFieldProblems(props.field);
  const errorId = problems.length > 0 ? `${id}-error` : undefined;
  const hintId = props.hint ? `${id}-hint` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field ${props.className ?? ''}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.children({ id, hintId: describedBy, invalid: problems.length > 0 ? true : undefined })}
      {props.hint && (
        <p className="hint" id={hintId}>
          {props.hint}
        </p>
      )}
      <FieldProblems id={errorId} problems={problems} />
    </div>
  );
}

function FieldProblems({ id, problems }: { id: string | undefined; problems: string[] }) {
  if (problems.length === 0) return null;
  if (problems.length === 1)
    return (
      <p className="field-error" id={id}>
        {problems[0]}
      </p>
    );
  return (
    <ul className="field-error" id={id}>
      {problems.map((p) => (
        <li key={p}>{p}</li>
      ))}
    </ul>
  );
}

/**
 * A control is either held by its form (`reg`: react-hook-form's `register(name)`, the value lives in the form)
 * or controlled (`value` and `onChange`, for the few held in a screen's own state).
 */
export type Held<V> =
  | { reg: UseFormRegisterReturn; value?: never; onChange?: never }
  | { reg?: never; value: V; onChange: (v: V) => void };

/** The props that tie a native control to its form, or its value and change handler. */
function hold<V>(props: Held<V>, read: (e: { target: { value: string } }) => V) {
  if (props.reg) return props.reg;
  const { value, onChange } = props;
  return { value, onChange: (e: { target: { value: string } }) => onChange?.(read(e)) };
}

/** Omit for each member of a union (a control held by its form, or controlled), which plain Omit merges. */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

type TextFieldProps = FieldProps &
  Held<string> & {
    type?: string;
    required?: boolean;
    autoComplete?: string;
    inputMode?: 'numeric' | 'text' | 'email';
    placeholder?: string;
    minLength?: number;
    maxLength?: number;
    pattern?: string;
    autoFocus?: boolean;
    disabled?: boolean;
    min?: number;
    max?: number;
    name?: string;
  };

export function TextField(props: TextFieldProps) {
  return (
    <Field
      label={props.label}
      hint={props.hint}
      className={props.className}
      field={props.field ?? props.name}
    >
      {({ id, hintId, invalid }) => (
        <input
          id={id}
          name={props.name}
          type={props.type ?? 'text'}
          {...hold(props, (e) => e.target.value)}
          required={props.required}
          autoComplete={props.autoComplete}
          inputMode={props.inputMode}
          placeholder={props.placeholder}
          minLength={props.minLength}
          maxLength={props.maxLength}
          pattern={props.pattern}
          // biome-ignore lint/a11y/noAutofocus: first field of a dialog or of the sign-in step
          autoFocus={props.autoFocus}
          disabled={props.disabled}
          min={props.min}
          max={props.max}
          aria-describedby={hintId}
          aria-invalid={invalid}
        />
      )}
    </Field>
  );
}

/**
 * A password or other secret typed hidden. `autoComplete` is required: it tells password managers whether to
 * fill the stored one (current-password) or to offer a new one (new-password).
 */
export function PasswordField(
  props: OmitEach<TextFieldProps, 'type' | 'autoComplete'> & {
    autoComplete: 'current-password' | 'new-password';
  },
) {
  // A new password's broken rules (PASSWORD_TOO_WEAK) are listed under it, with its own field errors.
  const own = props.field ?? props.name;
  const field = props.autoComplete === 'new-password' ? [...[own].flat(), PASSWORD_RULES] : own;
  return <TextField {...props} field={field} type="password" />;
}

/**
 * A new password typed twice (a password change, a reset link): the first field lists the rules the API found
 * broken; `checkRepeated` throws, in the admin's language, when the two differ (call it before sending).
 */
export function NewPasswordFields(props: {
  /** The new password and its repetition, each held by the form or controlled. */
  value: Held<string>;
  repeated: Held<string>;
  /** The API's name of the field (new_password), for its errors. */
  field: string;
  autoFocus?: boolean;
}) {
  return (
    <>
      <PasswordField
        label={t('profile.newPassword')}
        {...props.value}
        required
        autoComplete="new-password"
        field={props.field}
        autoFocus={props.autoFocus}
      />
      <PasswordField
        label={t('profile.repeatPassword')}
        {...props.repeated}
        required
        autoComplete="new-password"
      />
    </>
  );
}

export function checkRepeated(value: string, repeated: string): void {
  if (value !== repeated) throw new Error(t('profile.mismatch'));
}

/** How each kind of one-time code is typed: six digits (a space allowed, as apps show them), or a recovery code. */
const ONE_TIME_CODE = {
  totp: { inputMode: 'numeric', pattern: '[0-9 ]{6,7}' },
  recovery: { inputMode: 'text', pattern: '[A-Za-z0-9\\-]{8,9}' },
} as const;

/** A one-time code to type: an authenticator app's (totp) or a recovery code, offered by autofill as such. */
export function OneTimeCodeField(
  props: OmitEach<TextFieldProps, 'inputMode' | 'pattern' | 'autoComplete'> & { kind: 'totp' | 'recovery' },
) {
  const { kind, ...field } = props;
  return <TextField {...field} {...ONE_TIME_CODE[kind]} autoComplete="one-time-code" />;
}

export function TextArea(props: FieldProps & Held<string> & { rows?: number; disabled?: boolean }) {
  return (
    <Field label={props.label} hint={props.hint} className={props.className} field={props.field}>
      {({ id, hintId, invalid }) => (
        <textarea
          id={id}
          rows={props.rows ?? 4}
          {...hold(props, (e) => e.target.value)}
          disabled={props.disabled}
          aria-describedby={hintId}
          aria-invalid={invalid}
        />
      )}
    </Field>
  );
}

export function Checkbox(
  props: FieldProps &
    (
      | { reg: UseFormRegisterReturn; checked?: never; onChange?: never }
      | { reg?: never; checked: boolean; onChange: (v: boolean) => void }
    ) & {
      disabled?: boolean;
    },
) {
  const id = useId();
  const held = props.reg ?? {
    checked: props.checked,
    onChange: (e: { target: { checked: boolean } }) => props.onChange?.(e.target.checked),
  };
  return (
    <div className={`check ${props.className ?? ''}`}>
      <input id={id} type="checkbox" {...held} disabled={props.disabled} />
      <label htmlFor={id}>{props.label}</label>
      {props.hint && <span className="hint">{props.hint}</span>}
    </div>
  );
}

/** A set of checked items with one checked or unchecked: a new Set, since form values are never mutated. */
export function withMember<T>(set: ReadonlySet<T>, item: T, on: boolean): Set<T> {
  const next = new Set(set);
  if (on) next.add(item);
  else next.delete(item);
  return next;
}

/** A fieldset of checkboxes, one per item, whose ticked keys are `selected` (roles to grant, events to send). */
export function CheckList(props: {
  legend: string;
  hint?: string;
  items: { key: string; label: string }[];
  selected: ReadonlySet<string>;
  onChange: (next: Set<string>) => void;
  /** The API field whose errors are shown under the list (`grant_types`). */
  field?: string;
}) {
  const id = useId();
  const problems = useFieldProblems(props.field);
  const errorId = problems.length > 0 ? `${id}-error` : undefined;
  return (
    <fieldset className="stack" aria-describedby={errorId}>
      <legend>{props.legend}</legend>
      {props.hint && <p className="hint">{props.hint}</p>}
      {props.items.map((item) => (
        <Checkbox
          key={item.key}
          label={item.label}
          checked={props.selected.has(item.key)}
          onChange={(on) => props.onChange(withMember(props.selected, item.key, on))}
        />
      ))}
      <FieldProblems id={errorId} problems={problems} />
    </fieldset>
  );
}

/** A CheckList whose ticked keys are a field of a react-hook-form form (a Set of keys). */
export function FormCheckList<F extends FieldValues>(
  props: Omit<Parameters<typeof CheckList>[0], 'selected' | 'onChange'> & {
    control: Control<F>;
    name: FieldPathByValue<F, ReadonlySet<string>>;
  },
) {
  const { control, name, ...list } = props;
  return (
    <Controller
      control={control}
      name={name}
      render={({ field }) => <CheckList {...list} selected={field.value} onChange={field.onChange} />}
    />
  );
}

export function Select<T extends string>(
  props: FieldProps &
    Held<T> & {
      options: { value: T; label: string }[];
      disabled?: boolean;
    },
) {
  return (
    <Field label={props.label} hint={props.hint} className={props.className} field={props.field}>
      {({ id, hintId, invalid }) => (
        <select
          id={id}
          {...hold(props, (e) => e.target.value as T)}
          disabled={props.disabled}
          aria-describedby={hintId}
          aria-invalid={invalid}
        >
          {props.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/**
 * An error, said once: inside a Form, the field errors a control on show claims are left to it, and the
 * others are listed here under the message (a field the form does not show, a rule about the whole body).
 */
export function ErrorText({ error }: { error: unknown }) {
  const form = useContext(FormErrorsContext);
  if (!error) return null;
  const own = form && form.error === error;
  const rest = fieldProblems(error).filter(
    (p) => !own || ![...form.shown.keys()].some((f) => claims(f, p.field)),
  );
  return (
    <div className="error" role="alert">
      <p>{errorMessage(error)}</p>
      {rest.length > 0 && (
        <ul>
          {rest.map((p) => (
            <li key={`${p.field}:${p.text}`}>
              {p.field && p.field !== PASSWORD_RULES ? `${p.field}: ${p.text}` : p.text}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

// ---- dialogs -------------------------------------------------------------------------------------------
/** A modal on the native <dialog>: the browser traps focus, Escape closes it, focus returns to the opener. */
export function Dialog(props: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      className={props.wide ? 'dialog dialog-wide' : 'dialog'}
      aria-labelledby={titleId}
      onClose={props.onClose}
    >
      {props.open && (
        <>
          <header className="dialog-head">
            <h2 id={titleId}>{props.title}</h2>
            <button type="button" className="btn-icon" onClick={props.onClose} aria-label={t('common.close')}>
              ×
            </button>
          </header>
          <div className="dialog-body">{props.children}</div>
        </>
      )}
    </dialog>
  );
}

/** A form's submission: busy while it runs, its error shown until the next attempt (setError is the stable useState setter). */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function submit(fn: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  /** A form's onSubmit handler: the browser does not submit the form itself, `fn` runs as submit(fn). */
  const onSubmit = (fn: () => Promise<void>) => async (e: FormEvent) => {
    e.preventDefault();
    await submit(fn);
  };
  /** A button's onClick handler for an action taken at once (end a session, remove a key): submit(fn). */
  const onClick = (fn: () => Promise<void>) => () => submit(fn);
  return { busy, error, setError, submit, onSubmit, onClick };
}

/**
 * The end of a form on a page (not in a dialog): the submission's error, then its submit button, disabled
 * while `busy`. `hideButton` keeps the error shown where the user may not submit (a read-only form).
 */
export function FormEnd(props: {
  error: unknown;
  label: string;
  busy?: boolean;
  hideButton?: boolean;
  className?: string;
}) {
  return (
    <>
      <ErrorText error={props.error} />
      {!props.hideButton && (
        <div className={props.className ? `actions actions-left ${props.className}` : 'actions actions-left'}>
          <button type="submit" className="btn btn-primary" disabled={props.busy}>
            {props.label}
          </button>
        </div>
      )}
    </>
  );
}

/**
 * A dialog holding one form: Cancel and a submit button, the submission's error above them, busy while it runs.
 * `onOpen` runs each time the dialog opens (reset the fields there); `onSubmit` closes nothing by itself.
 *
 * The fields mount only after `onOpen` has run. react-hook-form's reset() forgets its mounted fields until the
 * next render registers them again; a reset run after the fields were shown (a passive effect) left a window in
 * which a fast user's typing or choice was ignored and then overwritten with the default (a browser test types
 * the instant the field appears; the likely cause of two browser-test failures under load).
 */
export function FormDialog(props: {
  open: boolean;
  title: string;
  onClose: () => void;
  onOpen?: () => void;
  onSubmit: () => Promise<void>;
  submitLabel: string;
  submitKind?: 'primary' | 'danger';
  blocked?: boolean;
  wide?: boolean;
  children: ReactNode;
}) {
  const { busy, error, setError, onSubmit } = useSubmit();
  const onOpen = useRef(props.onOpen);
  onOpen.current = props.onOpen;
  const [prepared, setPrepared] = useState(false);
  // A layout effect: its state update renders again before the browser paints or handles any input.
  useLayoutEffect(() => {
    if (props.open) {
      setError(null);
      onOpen.current?.();
    }
    setPrepared(props.open);
  }, [props.open, setError]);
  return (
    <Dialog open={props.open && prepared} title={props.title} onClose={props.onClose} wide={props.wide}>
      <Form className="stack" error={error} onSubmit={onSubmit(props.onSubmit)}>
        {props.children}
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" className="btn" onClick={props.onClose}>
            {t('common.cancel')}
          </button>
          <button
            type="submit"
            className={props.submitKind === 'danger' ? 'btn btn-danger' : 'btn btn-primary'}
            disabled={busy || props.blocked}
          >
            {props.submitLabel}
          </button>
        </div>
      </Form>
    </Dialog>
  );
}

/**
 * Shows what a creation returns once (an API key, a peer's configuration) until its one button closes it:
 * open while `item` is set. `actions` go before that button.
 */
export function ShownOnceDialog<T>(props: {
  item: T | null;
  title: (item: T) => string;
  done: string;
  onClose: () => void;
  actions?: (item: T) => ReactNode;
  wide?: boolean;
  children: (item: T) => ReactNode;
}) {
  const { item } = props;
  return (
    <Dialog
      open={item !== null}
      title={item !== null ? props.title(item) : ''}
      onClose={props.onClose}
      wide={props.wide}
    >
      {item !== null && (
        <div className="stack">
          {props.children(item)}
          <div className="actions">
            {props.actions?.(item)}
            <button type="button" className="btn btn-primary" onClick={props.onClose}>
              {props.done}
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}

/** Asks before a destructive action; `confirmText`, when set, must be typed to enable the button. */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  body: ReactNode;
  action: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
  confirmText?: string;
  danger?: boolean;
}) {
  const [typed, setTyped] = useState('');
  return (
    <FormDialog
      open={props.open}
      title={props.title}
      onClose={props.onClose}
      onOpen={() => setTyped('')}
      onSubmit={async () => {
        await props.onConfirm();
        props.onClose();
      }}
      submitLabel={props.action}
      submitKind={props.danger === false ? 'primary' : 'danger'}
      blocked={props.confirmText !== undefined && typed.trim() !== props.confirmText}
    >
      <div className="confirm-body">{props.body}</div>
      {props.confirmText !== undefined && (
        <TextField
          label={t('common.typeToConfirm', { text: props.confirmText })}
          value={typed}
          onChange={setTyped}
          autoFocus
        />
      )}
    </FormDialog>
  );
}

/**
 * Asks before a destructive action on one item (a key, a peer, a role, a domain): open while `item` is set, its
 * texts made from that item, so that the screens keep only which item is asked about.
 */
export function ConfirmFor<T>(props: {
  item: T | null;
  title: string;
  body: (item: T) => string;
  action: string;
  onConfirm: (item: T) => Promise<void>;
  onClose: () => void;
  /** What must be typed to enable the button (e.g. the item's name), when a slip would cost much. */
  confirmText?: (item: T) => string;
}) {
  const { item } = props;
  return (
    <ConfirmDialog
      open={item !== null}
      title={props.title}
      body={item !== null && <p>{props.body(item)}</p>}
      action={props.action}
      confirmText={item !== null && props.confirmText ? props.confirmText(item) : undefined}
      onConfirm={async () => {
        if (item !== null) await props.onConfirm(item);
      }}
      onClose={props.onClose}
    />
  );
}

// ---- small pieces --------------------------------------------------------------------------------------
/** A link to a console page: a real href (new tab, copy link), navigated in place on a plain click. */
export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  return (
    <a
      className={className}
      href={BASE + (to === '/' ? '/' : to)}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function PageHeader({ title, actions, sub }: { title: string; actions?: ReactNode; sub?: ReactNode }) {
  return (
    <div className="page-head">
      <div>
        <h1 tabIndex={-1} id="page-title">
          {title}
        </h1>
        {sub && <p className="sub">{sub}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}

export function Badge({
  kind,
  children,
}: {
  kind: 'ok' | 'warn' | 'bad' | 'muted' | 'info';
  children: ReactNode;
}) {
  return <span className={`badge badge-${kind}`}>{children}</span>;
}

export function Loading() {
  return (
    <p className="loading" aria-live="polite">
      {t('common.loading')}
    </p>
  );
}

/**
 * A useAsync load on a page: its error, Loading until the first data, then `children` with the data (kept
 * while a reload runs). `error`, when given, is the error to show there instead, e.g. this load's or another's.
 */
export function Loaded<T>(props: {
  load: { data?: T; error?: unknown; loading: boolean };
  error?: unknown;
  children: (data: T) => ReactNode;
}) {
  const { data, loading } = props.load;
  return (
    <>
      <ErrorText error={props.error ?? props.load.error} />
      {loading && !data && <Loading />}
      {data && props.children(data)}
    </>
  );
}

export function CopyButton({ text, label, name }: { text: string; label?: string; name?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      className="btn btn-small"
      aria-label={name && !done ? t('common.copyNamed', { name }) : undefined}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setDone(true);
          toast(t('common.copied'));
          window.setTimeout(() => setDone(false), 2000);
        } catch {
          toast(t('common.copyFailed'), 'error');
        }
      }}
    >
      {done ? t('common.copied') : (label ?? t('common.copy'))}
    </button>
  );
}

/** A value to copy elsewhere (a key, a URL to register at a provider): its label, the value, a copy button. */
export function CopyValue({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="copy-value">
      <span className="copy-label">{label}</span>
      <div className="secret">
        <code className="secret-value" data-testid={testId}>
          {value}
        </code>
        <CopyButton text={value} name={label} />
      </div>
    </div>
  );
}

export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(currentLocale() === 'fr' ? 'fr-FR' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
  });
}

export function fmtRelative(iso: string | null | undefined): string {
  if (!iso) return t('common.never');
  const diff = (new Date(iso).getTime() - Date.now()) / 1000;
  const rtf = new Intl.RelativeTimeFormat(currentLocale(), { numeric: 'auto' });
  const abs = Math.abs(diff);
  if (abs < 60) return rtf.format(Math.round(diff), 'second');
  if (abs < 3600) return rtf.format(Math.round(diff / 60), 'minute');
  if (abs < 86_400) return rtf.format(Math.round(diff / 3600), 'hour');
  return rtf.format(Math.round(diff / 86_400), 'day');
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** A titled section of a page, named for screen readers by its heading. */
export function Panel(props: { id: string; title: string; className?: string; children: ReactNode }) {
  return (
    <section className={props.className ? `panel ${props.className}` : 'panel'} aria-labelledby={props.id}>
      <h2 id={props.id}>{props.title}</h2>
      {props.children}
    </section>
  );
}
