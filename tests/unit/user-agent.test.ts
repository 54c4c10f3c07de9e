import { describe, expect, it } from 'vitest';
import { parseUserAgent } from '../../src/modules/sessions/user-agent.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

describe('parseUserAgent', () => {
  it('reads browser, OS and device type, and a repeated string gives the same answer from the cache', () => {
    const first = parseUserAgent(FIREFOX);
    expect(first).toEqual({ deviceType: 'desktop', browser: 'Firefox 128', os: 'Linux' });
    const again = parseUserAgent(FIREFOX);
    expect(again).toEqual(first);
    // A caller that changes its copy does not change what the next caller gets.
    again.browser = 'changed';
    expect(parseUserAgent(FIREFOX).browser).toBe('Firefox 128');
  });

  it('tells bots and unknown clients apart, and a flood of distinct strings keeps answering correctly', () => {
    expect(parseUserAgent('curl/8.5.0').deviceType).toBe('bot');
    expect(parseUserAgent(null)).toEqual({ deviceType: 'unknown', browser: null, os: null });
    for (let i = 0; i < 1200; i++) parseUserAgent(`probe-${i}`);
    expect(parseUserAgent(FIREFOX).browser).toBe('Firefox 128');
    expect(parseUserAgent(`x${'a'.repeat(4000)}`).deviceType).toBe('unknown');
  });
});
