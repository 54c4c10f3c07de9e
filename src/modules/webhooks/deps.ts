/** What the webhooks module's services use (the composition root's AppContext satisfies it structurally). */
import type { AppContext } from '../../platform/context.js';

export interface WebhooksDeps
  extends Pick<AppContext, 'clock' | 'config' | 'database' | 'log' | 'mailer' | 'metrics' | 'secretBox'> {}
