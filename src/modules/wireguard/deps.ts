/**
 * What the wireguard module's services use: platform services. The composition root's AppContext
 * satisfies it structurally; tests and other callers may pass anything that does.
 */
import type { AppContext } from '../../platform/context.js';

export interface WireguardDeps extends Pick<AppContext, 'config' | 'database' | 'log' | 'secretBox'> {}
