/**
 * The first connection of every MQTT component: one attempt, so an unreachable broker fails start-up
 * at once with `cannot reach MQTT broker at <url>: <cause>` (mqtt.js would otherwise retry forever);
 * once connected, the client reconnects every `reconnectPeriod` as configured. Every connection has
 * Nagle's algorithm off (mqtt.js opens its socket without `noDelay`), so a small publish is not held
 * back until the broker's delayed ACK.
 */
import type { Socket } from 'node:net';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { redactUrl, unreachable } from '../util/network-error.js';

/** Turns Nagle's algorithm off on every connection the client makes. */
export function withoutNagle(client: MqttClient): MqttClient {
  // 'connect' fires on every (re)connection, each on a new socket; a WebSocket stream has no such knob.
  client.on('connect', () => (client.stream as Partial<Pick<Socket, 'setNoDelay'>>).setNoDelay?.(true));
  return client;
}

/**
 * A connected client, or an error naming the broker and the cause. `signal` (the component's init
 * being abandoned) hangs up a connection still waiting for the broker's CONNACK.
 */
export function connectMqtt(url: string, options: IClientOptions, signal?: AbortSignal): Promise<MqttClient> {
  const reconnectPeriod = options.reconnectPeriod ?? 1000;
  const client = mqtt.connect(url, { ...options, reconnectPeriod: 0 });
  withoutNagle(client);
  return new Promise<MqttClient>((resolve, reject) => {
    let lastError: unknown;
    const onError = (err: Error) => (lastError = err);
    const onAbort = () => {
      lastError = new Error('init was abandoned');
      client.end(true);
    };
    const onConnect = () => {
      signal?.removeEventListener('abort', onAbort);
      client.off('error', onError);
      client.off('close', onClose);
      client.options.reconnectPeriod = reconnectPeriod;
      resolve(client);
    };
    const onClose = () => {
      signal?.removeEventListener('abort', onAbort);
      client.off('connect', onConnect);
      client.end(true);
      reject(unreachable('MQTT broker', redactUrl(url), lastError ?? new Error('connection closed')));
    };
    client.on('error', onError);
    client.once('connect', onConnect);
    client.once('close', onClose);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
