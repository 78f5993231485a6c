/** Actors through `@dapr/dapr` with the actors' and the proxies' sidecar calls over gRPC. */
import { actorScenarios } from './actors-scenarios.js';

actorScenarios('grpc');
