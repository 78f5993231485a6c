/** Actors through `@dapr/dapr` with the actors' and the proxies' sidecar calls over HTTP. */
import { actorScenarios } from './actors-scenarios.js';

actorScenarios('http');
