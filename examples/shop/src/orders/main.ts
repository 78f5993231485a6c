/** The orders service: `node --import tsx src/orders/main.ts` beside a sidecar with app id `orders`. */
import { runService } from '../shared/service.js';
import type { OrderRecord } from './model.js';
import { orderRoutes } from './routes.js';

await runService<OrderRecord>({ name: 'orders', routes: orderRoutes });
