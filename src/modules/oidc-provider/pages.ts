/**
 * The few pages the provider itself renders (the sign-in and consent pages are the console's): the logout
 * confirmation, its result, and an error a relying party could not be told about (an unknown client or
 * redirect_uri: RFC 6749 §4.1.2.1 forbids redirecting then). Plain HTML with no script and no style, so the
 * strictest Content-Security-Policy holds; every value is escaped.
 */
const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head><body><main>${body}</main></body></html>`;
}

/**
 * `form` is the library's own form (its action and anti-forgery field), which the buttons submit: "Sign out"
 * sends `logout=yes`, the other button ends nothing.
 */
export function logoutPage(tenantName: string, form: string): string {
  return page(
    `Sign out of ${tenantName}`,
    `<h1>Sign out of ${escapeHtml(tenantName)}?</h1>${form}<p><button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button> <button type="submit" form="op.logoutForm">Stay signed in</button></p>`,
  );
}

export function loggedOutPage(tenantName: string): string {
  return page('Signed out', `<h1>You are signed out of ${escapeHtml(tenantName)}.</h1>`);
}

export function errorPage(tenantName: string, out: { error: string; error_description?: string }): string {
  return page(
    'Sign-in error',
    `<h1>${escapeHtml(tenantName)}: the sign-in could not go on</h1><p><code>${escapeHtml(out.error)}</code>${out.error_description ? `: ${escapeHtml(out.error_description)}` : ''}</p><p>Go back to the application and try again.</p>`,
  );
}
