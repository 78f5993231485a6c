/**
 * Every building block of the sidecar, registered once: adding a block is one line here (and its
 * folder; see `block-module.ts`). The order is the start order (a block still starts after the blocks
 * it depends on) and the order in which routes are listed; blocks stop in the reverse order.
 *
 * Blocks that call into the app (input bindings, job triggers, configuration updates, pub/sub deliveries) come after the
 * APIs an app's handler may call meanwhile (invocation, workflows), so at shutdown they stop first
 * and a delivery still in flight can finish its calls.
 */
import { actorsModule } from './actors/module.js';
import { adminModule } from './admin/module.js';
import type { BlockModule } from './block-module.js';
import { bindingsModule } from './bindings/module.js';
import { coreModule } from './core/module.js';
import { configurationModule } from './configuration/index.js';
import { cryptoModule } from './crypto/module.js';
import { invocationModule } from './invocation/module.js';
import { jobsModule } from './jobs/module.js';
import { lockModule } from './lock/index.js';
import { pubsubModule } from './pubsub/module.js';
import { secretsModule } from './secrets/module.js';
import { stateModule } from './state/module.js';
import { workflowsModule } from './workflows/module.js';

/** The building blocks, in start order. */
export const BUILDING_BLOCKS: readonly BlockModule[] = [
  coreModule,
  stateModule,
  secretsModule,
  cryptoModule,
  lockModule,
  workflowsModule,
  invocationModule,
  actorsModule,
  bindingsModule,
  jobsModule,
  configurationModule,
  pubsubModule,
  adminModule,
];
