/** The Weft dashboard server, started by `weft dashboard`, `weft run --dashboard` and run files. */
export { DashboardConfigError, countWorkflows, startDashboardServer } from './server.js';
export type { DashboardServer, DashboardServerOptions } from './server.js';
export type { ExplicitSidecar } from './sidecars.js';
export { isLoopbackHost } from './auth.js';
