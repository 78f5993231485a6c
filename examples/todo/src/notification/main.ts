/** notification-service: `node --import tsx src/notification/main.ts` beside a sidecar (APP_PORT, default 8001). */
import { CommunicationProtocolEnum, DaprClient } from '@dapr/dapr';
import { appPort, COMPONENTS } from '../shared/config.js';
import { StateClient } from '../shared/state.js';
import { buildNotificationService } from './app.js';

const dapr = new DaprClient({ daprHost: '127.0.0.1', daprPort: process.env['DAPR_HTTP_PORT'] ?? '3500', communicationProtocol: CommunicationProtocolEnum.HTTP });
const app = buildNotificationService({ dapr, state: new StateClient(COMPONENTS.state) });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
await app.listen({ host: '127.0.0.1', port: appPort(8001) });
