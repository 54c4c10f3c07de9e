/** The activity record vouches for a session only under the store generation that wrote it (issue 24 item 2). */
import { describe, expect, it } from 'vitest';
import { vouchedLastSeen } from '../../src/modules/sessions/activity.js';
import { MemoryStore } from '../../src/platform/store/memory.js';

describe('vouchedLastSeen', () => {
  it('trusts a record written under the generation the store serves now', () => {
    expect(vouchedLastSeen('1700000000000@abc123', 'abc123')).toBe(1700000000000);
  });
  it('refuses a record from another generation (a promoted replica), of unknown generation, or from before generations', () => {
    expect(vouchedLastSeen('1700000000000@abc123', 'def456')).toBeNull();
    expect(vouchedLastSeen('1700000000000@abc123', null)).toBeNull();
    expect(vouchedLastSeen('1700000000000', 'abc123')).toBeNull();
    expect(vouchedLastSeen(null, 'abc123')).toBeNull();
    expect(vouchedLastSeen('garbage@abc123', 'abc123')).toBeNull();
  });
  it('a memory store keeps one generation for its life, and two stores differ', async () => {
    const a = new MemoryStore();
    const b = new MemoryStore();
    expect(a.generation()).toBe(a.generation());
    expect(a.generation()).not.toBe(b.generation());
    await a.close();
    await b.close();
  });
});
