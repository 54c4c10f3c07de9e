/**
 * Light or dark: the browser's prefers-color-scheme until the admin picks one with the header's switch (kept in
 * localStorage). The result is `data-theme` on <html>, which styles.css reads; following the system
 * preference live, so a change of the OS setting applies at once while nothing was picked.
 */
import { useSyncExternalStore } from 'react';

export type Theme = 'light' | 'dark';
const KEY = 'massacorp.console.theme';
const listeners = new Set<() => void>();
const query = window.matchMedia('(prefers-color-scheme: dark)');

function chosen(): Theme | null {
  try {
    const v = window.localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : null;
  } catch {
    return null;
  }
}

let theme: Theme = chosen() ?? (query.matches ? 'dark' : 'light');

function apply(): void {
  document.documentElement.dataset.theme = theme;
  for (const fn of listeners) fn();
}
apply();

query.addEventListener('change', (e) => {
  if (chosen()) return;
  theme = e.matches ? 'dark' : 'light';
  apply();
});

export function setTheme(t: Theme): void {
  theme = t;
  try {
    window.localStorage.setItem(KEY, t);
  } catch {
    // storage disabled: the choice lasts until the page is left
  }
  apply();
}

export function useTheme(): Theme {
  return useSyncExternalStore(
    (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    () => theme,
  );
}
