/**
 * `pubsub.mqtt3`: MQTT 3.1.1 at QoS 1 (by default) with `+`/`#` wildcards. Each subscription has its
 * own client whose id is stable (`{consumerID or app id}-{hash of the topic}`) with a persistent
 * session (`cleanSession: false`), and a message is PUBACKed only once the handler acked it: when a
 * sidecar is killed, the broker keeps the unacknowledged and the newly published messages in the
 * session and hands them over when the restarted sidecar reconnects. A RETRY is retried in process
 * after `redeliverInterval`, since MQTT has no negative acknowledgement.
 *
 * mqtt.js reads the next packet only after the current one is acknowledged, so each subscription
 * handles one message at a time (in order).
 *
 * Why a connection per subscription, unlike the other drivers (one per component): MQTT 3.1.1 (§4.6)
 * requires PUBACKs in the order the PUBLISHes arrived on a connection, and mqtt.js holds the next
 * packet until the current one is acknowledged. On one shared connection, an event being retried on
 * one topic (it is PUBACKed only once handled, so a crash never loses it) would stall every other
 * topic of the component; with a connection each, only its own topic waits.
 *
 * Not supported, as in MQTT 3 itself: consumer groups (two instances of one app id need distinct
 * `consumerID`s and then each gets every message), message metadata and content types.
 */
import { createHash, randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { connectMqtt } from '../../mqtt-connect.js';
import type { MqttClient } from 'mqtt';
import type { Logger } from '../../../logging/logger.js';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { MetadataError, readBool, readDurationMs, readInt, readProperty, requireString } from '../../metadata.js';
import type { MessageHandler, PubSub, PubSubFeature, PublishRequest, SubscribeRequest, Subscription } from '../store.js';

interface Mqtt3Metadata {
  url: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  cleanSession: boolean;
  consumerID?: string;
  redeliverIntervalMs: number;
}

function parseMetadata(props: MetadataProperties): Mqtt3Metadata {
  let url = requireString(props, 'url');
  // Dapr's examples use tcp:// and ssl://; mqtt.js spells them mqtt:// and mqtts://.
  url = url.replace(/^tcp:\/\//, 'mqtt://').replace(/^ssl:\/\//, 'mqtts://');
  const qos = readInt(props, 'qos', 1);
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new MetadataError('qos', 'must be 0, 1 or 2');
  const consumerID = readProperty(props, 'consumerID');
  return {
    url,
    qos,
    retain: readBool(props, 'retain', false),
    cleanSession: readBool(props, 'cleanSession', false),
    ...(consumerID ? { consumerID } : {}),
    redeliverIntervalMs: readDurationMs(props, 'redeliverInterval', 1000),
  };
}

/** MQTT 3 pub/sub. */
export class Mqtt3PubSub implements PubSub {
  private publisher: MqttClient | undefined;
  private meta!: Mqtt3Metadata;
  private logger!: Logger;
  private readonly clients = new Set<MqttClient>();

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    this.meta = parseMetadata(props);
    this.logger = context.logger;
    this.publisher = await connectMqtt(this.meta.url, {
      clientId: `${this.meta.consumerID ?? context.appId}-pub-${randomUUID().slice(0, 8)}`,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 1000,
    });
    this.publisher.on('error', (err) => this.logger.warn('mqtt publisher error', { error: err.message }));
  }

  features(): readonly PubSubFeature[] {
    return ['SUBSCRIBE_WILDCARDS', 'ORDERED'];
  }

  async publish(request: PublishRequest): Promise<void> {
    if (/[+#]/.test(request.topic)) throw new Error(`cannot publish to a wildcard topic "${request.topic}"`);
    const client = this.publisher;
    if (!client) throw new Error('pubsub.mqtt3 is not initialised');
    await client.publishAsync(request.topic, request.data, { qos: this.meta.qos, retain: this.meta.retain });
  }

  async subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<Subscription> {
    const hash = createHash('sha1').update(request.topic).digest('hex').slice(0, 10);
    const clientId = `${this.meta.consumerID ?? request.group}-${hash}`;
    let open = true;
    // mqtt.js reads the next packet only after this one is acknowledged, so a subscription handles
    // one message at a time: in order, whatever the requested concurrency.
    const handle = (topic: string, payload: Buffer, ack: () => void): void => {
      const attempt = (): void => {
        void handler({ topic, data: payload, metadata: {} })
          .catch(() => 'retry' as const)
          .then((outcome) => {
            if (!open) return; // no PUBACK: the session keeps it for the next connection
            if (outcome === 'retry') setTimeout(attempt, this.meta.redeliverIntervalMs).unref();
            else ack();
          });
      };
      attempt();
    };
    const client = mqtt.connect(this.meta.url, {
      clientId,
      clean: this.meta.cleanSession,
      protocolVersion: 4,
      reconnectPeriod: 1000,
    });
    // mqtt.js sends the PUBACK when handleMessage calls back: only once the handler acked (set before
    // connecting, since a resumed session replays its messages right away).
    client.handleMessage = (packet, callback) => handle(packet.topic, Buffer.from(packet.payload), () => callback());
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    client.on('error', (err) => this.logger.warn('mqtt subscriber error', { error: err.message }));
    this.clients.add(client);
    await client.subscribeAsync(request.topic, { qos: this.meta.qos });
    return {
      close: async () => {
        if (!open) return;
        open = false;
        this.clients.delete(client);
        // Forced: no PUBACK for what is in flight, so the session keeps it.
        await client.endAsync(true).catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    for (const client of this.clients) await client.endAsync(true).catch(() => undefined);
    this.clients.clear();
    await this.publisher?.endAsync().catch(() => undefined);
    this.publisher = undefined;
  }
}
