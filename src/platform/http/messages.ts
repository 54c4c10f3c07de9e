/**
 * Texts in French (default, as in the existing API) and English. Clients must rely on the `error` code; texts may
 * change. Error texts come from the catalogues (errors.ts): the composition root registers the platform's and
 * every module's into one ErrorRegistry per app, and refuses to boot when two of them declare one code. Success
 * texts stay with their module (defineTexts).
 */
import type { ErrorCatalogue, ErrorSpec, Locale } from './errors.js';

export type { Locale };

type Texts = Readonly<Record<Locale, string>>;

/** Every error code of one app, with the catalogue that declared it. */
export interface ErrorRegistry {
  text(code: string, locale: Locale): string | undefined;
  status(code: string): number | undefined;
  owner(code: string): string | undefined;
  codes(): string[];
}

export interface NamedCatalogue {
  /** Who declared it (a module name, or 'platform'), for the boot error. */
  owner: string;
  catalogue: ErrorCatalogue<string>;
}

/** Merges catalogues; a code declared twice fails (at boot: buildApp calls this). */
export function buildErrorRegistry(catalogues: readonly NamedCatalogue[]): ErrorRegistry {
  const entries = new Map<string, { owner: string; spec: ErrorSpec }>();
  for (const { owner, catalogue } of catalogues) {
    for (const [code, spec] of Object.entries(catalogue.entries) as [string, ErrorSpec][]) {
      const seen = entries.get(code);
      if (seen && seen.spec !== spec)
        throw new Error(`error code ${code} is declared twice: by ${seen.owner} and by ${owner}`);
      entries.set(code, { owner, spec });
    }
  }
  return {
    text: (code, locale) => entries.get(code)?.spec[locale === 'fr' ? 1 : 2],
    status: (code) => entries.get(code)?.spec[0],
    owner: (code) => entries.get(code)?.owner,
    codes: () => [...entries.keys()],
  };
}

/** A module's success texts: `const text = defineTexts({ KEY: { fr, en } }); text('KEY', locale, { n: 2 })`. */
export function defineTexts<const T extends Record<string, Texts>>(texts: T) {
  return (
    key: Extract<keyof T, string>,
    locale: Locale,
    params: Record<string, string | number> = {},
  ): string =>
    (texts[key] as Texts)[locale].replace(/\{(\w+)\}/g, (m, k: string) =>
      k in params ? String(params[k]) : m,
    );
}

export function pickLocale(acceptLanguage: string | undefined, fallback: Locale): Locale {
  if (!acceptLanguage) return fallback;
  for (const part of acceptLanguage.split(',')) {
    const tag = part.split(';')[0]?.trim().toLowerCase() ?? '';
    if (tag.startsWith('fr')) return 'fr';
    if (tag.startsWith('en')) return 'en';
  }
  return fallback;
}
