import { UAParser } from 'ua-parser-js';

export interface DeviceInfo {
  deviceType: string;
  browser: string | null;
  os: string | null;
}

/**
 * Parsed answers by User-Agent string. Parsing runs a few hundred regular expressions on the event loop (about
 * 1 ms, the largest single cost of a sign-in in a CPU profile), and the same few strings come back all day:
 * a small bounded map turns the repeats into a lookup. Insertion order makes the eviction oldest-first.
 */
const parsed = new Map<string, DeviceInfo>();
const MAX_PARSED = 500;
const MAX_CACHED_LENGTH = 512;

/** device/browser/os for the sessions list, from the User-Agent header. */
export function parseUserAgent(ua: string | null | undefined): DeviceInfo {
  if (!ua) return { deviceType: 'unknown', browser: null, os: null };
  const known = parsed.get(ua);
  if (known) return { ...known };
  const info = parse(ua);
  // Real browsers' strings are well under this; a longer one is not worth memory that a client chooses.
  if (ua.length > MAX_CACHED_LENGTH) return info;
  if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value!);
  parsed.set(ua, info);
  return { ...info };
}

function parse(ua: string): DeviceInfo {
  const r = UAParser(ua);
  const browser = r.browser.name ? [r.browser.name, r.browser.major].filter(Boolean).join(' ') : null;
  const os = r.os.name ? [r.os.name, r.os.version].filter(Boolean).join(' ') : null;
  const isBot = /bot|crawler|spider|curl|wget|httpie|python-requests|node-fetch|axios|undici/i.test(ua);
  const deviceType = isBot ? 'bot' : (r.device.type ?? (os || browser ? 'desktop' : 'unknown'));
  return { deviceType, browser, os };
}
