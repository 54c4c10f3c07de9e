import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { applyServerDefault } from './i18n';
import type { ConsoleConfig } from './session';
import './styles.css';

async function start() {
  let config: ConsoleConfig = { default_tenant: null, locales: ['fr', 'en'], features: [] };
  try {
    const res = await fetch('/admin/config.json', { headers: { accept: 'application/json' } });
    if (res.ok) config = await res.json();
  } catch {
    // The API is down: the sign-in screen will say so when it is used.
  }
  applyServerDefault(config.locales);
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App config={config} />
    </StrictMode>,
  );
}

void start();
