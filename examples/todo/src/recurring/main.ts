/** recurring-task-service: `node --import tsx src/recurring/main.ts` beside a sidecar (APP_PORT, default 8002). */
import { CommunicationProtocolEnum, DaprClient } from '@dapr/dapr';
import { appPort } from '../shared/config.js';
import { buildRecurringService } from './app.js';

const dapr = new DaprClient({ daprHost: '127.0.0.1', daprPort: process.env['DAPR_HTTP_PORT'] ?? '3500', communicationProtocol: CommunicationProtocolEnum.HTTP });
const app = buildRecurringService({ dapr });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
await app.listen({ host: '127.0.0.1', port: appPort(8002) });
