/** The feature flags module: routes and the request.flags helper other modules gate behaviour with. */
import type { AppModule } from '../../platform/module.js';
import { requestFlagsPlugin } from './request-flags.js';
import { featureRoutes } from './routes.js';

export const featuresModule: AppModule = {
  name: 'features',
  // No error code of its own: it answers the platform's.
  errors: [],
  routes: (ctx) => [
    { prefix: '', plugin: requestFlagsPlugin(ctx) as never },
    { prefix: '/api/v1/features', plugin: featureRoutes(ctx) },
  ],
};
