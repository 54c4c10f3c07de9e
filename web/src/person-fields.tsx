/** A person's details as the users API takes them, for the screens that edit them (my profile, a user, a new user). */
import type { UseFormRegisterReturn } from 'react-hook-form';
import { t } from './i18n';
import { TextField } from './ui';

type NamePart = 'first' | 'last';

/** The parts of a name, in the order people are asked for them, with what autofill calls each. */
const NAME_PARTS = [
  { part: 'first', label: 'users.firstName', autoComplete: 'given-name' },
  { part: 'last', label: 'users.lastName', autoComplete: 'family-name' },
] as const;

/**
 * First and last name side by side. `own`: the signed-in user's own details, which the browser may autofill;
 * never when an administrator types someone else's.
 */
export function NameFields(props: {
  /** The form's register for the two parts (react-hook-form), e.g. `(part) => register(part)`. */
  register: (part: NamePart) => UseFormRegisterReturn;
  own?: boolean;
  disabled?: boolean;
  maxLength?: number;
}) {
  return (
    <div className="row2">
      {NAME_PARTS.map((n) => (
        <TextField
          key={n.part}
          label={t(n.label)}
          field={`${n.part}_name`}
          reg={props.register(n.part)}
          autoComplete={props.own ? n.autoComplete : undefined}
          disabled={props.disabled}
          maxLength={props.maxLength}
        />
      ))}
    </div>
  );
}

export function PhoneField(props: { reg: UseFormRegisterReturn; own?: boolean; disabled?: boolean }) {
  return (
    <TextField
      label={t('user.phone')}
      hint={t('user.phoneHint')}
      type="tel"
      field="phone"
      reg={props.reg}
      autoComplete={props.own ? 'tel' : undefined}
      disabled={props.disabled}
    />
  );
}
