/** The products service: `node --import tsx src/products/main.ts` beside a sidecar with app id `products`. */
import { runService } from '../shared/service.js';
import type { ProductRecord } from './model.js';
import { productRoutes } from './routes.js';

await runService<ProductRecord>({ name: 'products', routes: productRoutes });
