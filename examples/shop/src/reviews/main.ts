/** The reviews service: `node --import tsx src/reviews/main.ts` beside a sidecar with app id `reviews`. */
import { runService } from '../shared/service.js';
import type { ReviewRecord } from './model.js';
import { reviewRoutes } from './routes.js';

await runService<ReviewRecord>({ name: 'reviews', routes: reviewRoutes });
