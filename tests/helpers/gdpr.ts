/** What a GDPR erase hook is told when a test calls it alone, outside the GDPR module's orchestration. */
import { SYSTEM_AUDIT_CONTEXT } from '../../src/platform/audit/writer.js';
import type { GdprErasure } from '../../src/platform/context.js';

export function testErasure(
  email = 'nobody@example.test',
  mode: GdprErasure['mode'] = 'deleted',
): GdprErasure {
  return {
    mode,
    reason: mode === 'deleted' ? 'gdpr_erasure' : 'gdpr_anonymization',
    email,
    pseudonym: 'user-00000000000000000000',
    audit: SYSTEM_AUDIT_CONTEXT,
  };
}
