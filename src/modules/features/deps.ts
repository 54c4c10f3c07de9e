/**
 * What the features module's services use: platform services. The composition root's AppContext
 * satisfies it structurally; tests and other callers may pass anything that does.
 */
import type { AppContext } from '../../platform/context.js';

export interface FeaturesDeps extends Pick<AppContext, 'database'> {}
