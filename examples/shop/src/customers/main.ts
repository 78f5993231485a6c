/** The customers service: `node --import tsx src/customers/main.ts` beside a sidecar with app id `customers`. */
import { runService } from '../shared/service.js';
import type { CustomerRecord } from './model.js';
import { customerRoutes } from './routes.js';

await runService<CustomerRecord>({ name: 'customers', routes: customerRoutes });
