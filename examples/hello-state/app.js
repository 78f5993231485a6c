// The smallest Weft app: unchanged Dapr SDK code. Each run reads a counter from the state store,
// increments it and saves it back, so a second run shows the first run's value survived.
import { DaprClient, CommunicationProtocolEnum } from '@dapr/dapr';

const protocol = process.env.DEMO_PROTOCOL === 'grpc' ? CommunicationProtocolEnum.GRPC : CommunicationProtocolEnum.HTTP;
const client = new DaprClient({
  daprPort: protocol === CommunicationProtocolEnum.GRPC ? process.env.DAPR_GRPC_PORT : process.env.DAPR_HTTP_PORT,
  communicationProtocol: protocol,
  logger: { level: 1 },
});

const store = 'statestore';
const previous = await client.state.get(store, 'visits');
const visits = (typeof previous === 'number' ? previous : Number(previous) || 0) + 1;
await client.state.save(store, [{ key: 'visits', value: visits, metadata: {} }]);
const saved = await client.state.get(store, 'visits');
console.log(`Hello from Weft: this app has run ${saved} time(s); the count lives in the embedded store.`);
await client.stop();
