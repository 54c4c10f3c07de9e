import { UAParser } from 'ua-parser-js';

export interface DeviceInfo {
  deviceType: string;
  browser: string | null;
  os: string | null;
}

/** device/browser/os for the sessions list, from the User-Agent header. */
export function parseUserAgent(ua: string | null | undefined): DeviceInfo {
  if (!ua) return { deviceType: 'unknown', browser: null, os: null };
  const r = UAParser(ua);
  const browser = r.browser.name ? [r.browser.name, r.browser.major].filter(Boolean).join(' ') : null;
  const os = r.os.name ? [r.os.name, r.os.version].filter(Boolean).join(' ') : null;
  const isBot = /bot|crawler|spider|curl|wget|httpie|python-requests|node-fetch|axios|undici/i.test(ua);
  const deviceType = isBot ? 'bot' : (r.device.type ?? (os || browser ? 'desktop' : 'unknown'));
  return { deviceType, browser, os };
}
