/**
 * French and English. The browser's language picks the first one (then the server's default locale), the
 * switcher in the header overrides it, and the choice is remembered in localStorage. API error messages come
 * localised from the server (Accept-Language follows the same choice).
 */
import { useSyncExternalStore } from 'react';
import { en, fr, type MessageKey } from './messages';

export type Locale = 'fr' | 'en';
const KEY = 'massacorp.console.locale';
const listeners = new Set<() => void>();

function initial(): Locale {
  try {
    const saved = window.localStorage.getItem(KEY);
    if (saved === 'fr' || saved === 'en') return saved;
  } catch {
    // storage disabled
  }
  for (const l of navigator.languages ?? [navigator.language]) {
    const base = l.toLowerCase().slice(0, 2);
    if (base === 'fr' || base === 'en') return base;
  }
  return 'en';
}

let locale: Locale = initial();
document.documentElement.lang = locale;

export function currentLocale(): Locale {
  return locale;
}

/** The server's default applies only when the browser names neither language and nothing was chosen. */
export function applyServerDefault(serverLocales: string[]): void {
  try {
    if (window.localStorage.getItem(KEY)) return;
  } catch {
    // storage disabled
  }
  const named = (navigator.languages ?? [navigator.language]).some((l) => /^(fr|en)\b/i.test(l));
  const first = serverLocales[0];
  if (!named && (first === 'fr' || first === 'en')) setLocale(first, false);
}

export function setLocale(l: Locale, remember = true): void {
  locale = l;
  document.documentElement.lang = l;
  if (remember) {
    try {
      window.localStorage.setItem(KEY, l);
    } catch {
      // storage disabled
    }
  }
  for (const fn of listeners) fn();
}

export function useLocale(): Locale {
  return useSyncExternalStore(
    (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    () => locale,
  );
}

export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  let s: string = (locale === 'fr' ? fr : en)[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

/** The keys that come in plural forms: `users.total` for `users.total.one` and `users.total.other`. */
export type PluralKey = MessageKey extends infer K ? (K extends `${infer B}.other` ? B : never) : never;

const pluralRules = { en: new Intl.PluralRules('en'), fr: new Intl.PluralRules('fr') };

/**
 * A text about `n` things in the form the language wants ("1 user", "2 users"; "0 utilisateur", "2
 * utilisateurs"): Intl.PluralRules picks the category, `.other` stands in for one a language has no text for
 * (French's "many"); `{n}` is the number written the locale's way.
 */
export function tn(key: PluralKey, n: number, vars?: Record<string, string | number>): string {
  const table = locale === 'fr' ? fr : en;
  const form = `${key}.${pluralRules[locale].select(n)}`;
  const k = (form in table ? form : `${key}.other`) as MessageKey;
  return t(k, { ...vars, n: new Intl.NumberFormat(locale).format(n) });
}
