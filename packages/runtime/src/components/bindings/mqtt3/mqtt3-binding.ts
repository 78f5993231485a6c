/**
 * `bindings.mqtt3`: MQTT 3.1.1 input and output binding on one `topic` (QoS 1 by default).
 * Output: `create` publishes the request data (request metadata `topic` and `retain` override the
 * component's). Input: each message is handed to the app; the PUBACK is sent only after the app
 * took it, and a message the app did not take is handed over again every `retryInterval`
 * (at-least-once).
 */
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { connectMqtt, withoutNagle } from '../../mqtt-connect.js';
import type { MqttClient } from 'mqtt';
import type { Component, ComponentContext } from '../../component.js';
import { MetadataError, readBool, readDurationMs, readInt, readProperty, requireString } from '../../metadata.js';
import type { MetadataProperties } from '../../metadata.js';
import type { Logger } from '../../../logging/logger.js';
import type { BindingHandler, InputBinding, InvokeRequest, InvokeResponse, OutputBinding } from '../binding.js';

interface Mqtt3BindingMetadata {
  url: string;
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  cleanSession: boolean;
  consumerID: string;
  retryIntervalMs: number;
}

function parseMetadata(props: MetadataProperties, context: ComponentContext): Mqtt3BindingMetadata {
  const url = requireString(props, 'url').replace(/^tcp:\/\//, 'mqtt://').replace(/^ssl:\/\//, 'mqtts://');
  const qos = readInt(props, 'qos', 1);
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new MetadataError('qos', 'must be 0, 1 or 2');
  return {
    url,
    topic: requireString(props, 'topic'),
    qos,
    retain: readBool(props, 'retain', false),
    cleanSession: readBool(props, 'cleanSession', false),
    consumerID: readProperty(props, 'consumerID') || `${context.appId}-${context.name}`,
    retryIntervalMs: readDurationMs(props, 'retryInterval', 1000),
  };
}

/** The MQTT 3 binding. */
export class Mqtt3Binding implements InputBinding, OutputBinding, Component {
  private meta!: Mqtt3BindingMetadata;
  private logger!: Logger;
  private publisher: MqttClient | undefined;
  private subscriber: MqttClient | undefined;
  private closed = false;

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    this.meta = parseMetadata(props, context);
    this.logger = context.logger;
    this.publisher = await connectMqtt(this.meta.url, {
      clientId: `${this.meta.consumerID}-pub-${randomUUID().slice(0, 8)}`,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 1000,
    }, context.signal);
    this.publisher.on('error', (err) => this.logger.warn('mqtt publisher error', { error: err.message }));
  }

  operations(): readonly string[] {
    return ['create'];
  }

  async invoke(request: InvokeRequest): Promise<InvokeResponse | undefined> {
    const client = this.publisher;
    if (!client) throw new Error('bindings.mqtt3 is not initialised');
    const topic = request.metadata['topic'] || this.meta.topic;
    const retainRaw = request.metadata['retain'];
    const retain = retainRaw === undefined ? this.meta.retain : retainRaw === 'true';
    await client.publishAsync(topic, request.data, { qos: this.meta.qos, retain });
    return undefined;
  }

  async read(handler: BindingHandler): Promise<void> {
    const { meta } = this;
    const client = withoutNagle(mqtt.connect(meta.url, { clientId: meta.consumerID, clean: meta.cleanSession, protocolVersion: 4, reconnectPeriod: 1000 }));
    // The PUBACK goes out when handleMessage calls back: only after the app took the message.
    client.handleMessage = (packet, callback) => {
      const attempt = (): void => {
        handler({ data: Buffer.from(packet.payload), metadata: { topic: packet.topic } }).then(
          () => callback(),
          (err: unknown) => {
            if (this.closed) return; // No PUBACK: the broker redelivers on the next session.
            this.logger.debug('mqtt input event not taken by the app; retrying (reported by the input binding runner)', { error: (err as Error).message });
            setTimeout(attempt, meta.retryIntervalMs).unref();
          },
        );
      };
      attempt();
    };
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    client.on('error', (err) => this.logger.warn('mqtt subscriber error', { error: err.message }));
    this.subscriber = client;
    await client.subscribeAsync(meta.topic, { qos: meta.qos });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.subscriber?.endAsync(true).catch(() => undefined);
    await this.publisher?.endAsync().catch(() => undefined);
    this.subscriber = undefined;
    this.publisher = undefined;
  }
}
