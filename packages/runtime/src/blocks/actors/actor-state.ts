/**
 * Actor state in the actor state store, with Dapr's key layout `{appId}||{actorType}||{actorId}||{key}`
 * (dapr `pkg/actors/state`), so data written by Weft reads back on daprd and the other way round.
 * The store is the state component with `actorStateStore: "true"`; when none is declared, an
 * embedded SQLite store in `<dataDir>/actors-state.sqlite`.
 */
import path from 'node:path';
import type { ComponentManager, LoadedComponent } from '../../components/manager.js';
import { isTransactional } from '../../components/state/store.js';
import type { StateOperation, TransactionalStateStore } from '../../components/state/store.js';
import { SqliteStateStore } from '../../components/state/sqlite/sqlite-store.js';
import { isActorStateStore, parseTtl } from '../state/state-block.js';
import { ApiError } from '../../errors/api-error.js';
import { errorMessage } from '../../errors/api-error.js';
import type { Logger } from '../../logging/logger.js';
import { actorErrors } from './actor-errors.js';

const SEP = '||';

/** One operation of an actor state transaction. */
export type ActorStateOperation =
  | { operation: 'upsert'; key: string; value: Buffer; metadata?: Record<string, string> }
  | { operation: 'delete'; key: string };

/** A value read back. */
export interface ActorStateValue {
  data: Buffer;
  metadata: Record<string, string>;
}

/** What the actor state needs. */
export interface ActorStateOptions {
  appId: string;
  dataDir: string;
  components: ComponentManager;
  logger: Logger;
  /** The Configuration enables the `ActorStateTTL` feature (daprd refuses `ttlInSeconds` without it). */
  ttlEnabled: boolean;
}

/** Reads and writes actor state. */
export class ActorState {
  private embedded: Promise<TransactionalStateStore> | undefined;

  constructor(private readonly options: ActorStateOptions) {}

  /** The stored key of an actor's state key. */
  key(actorType: string, actorId: string, key: string): string {
    return [this.options.appId, actorType, actorId, key].join(SEP);
  }

  /** Reads one key; undefined when missing. */
  async get(actorType: string, actorId: string, key: string): Promise<ActorStateValue | undefined> {
    const store = await this.store();
    try {
      const item = await store.get({ key: this.key(actorType, actorId, key) });
      if (!item) return undefined;
      return { data: item.value, metadata: item.expiresAt ? { ttlExpireTime: item.expiresAt.toISOString() } : {} };
    } catch (err) {
      throw actorErrors.stateGet(errorMessage(err));
    }
  }

  /** Applies the operations atomically. */
  async transact(actorType: string, actorId: string, operations: readonly ActorStateOperation[]): Promise<void> {
    const store = await this.store();
    const ops: StateOperation[] = [];
    for (const op of operations) {
      if (op.key === '') throw actorErrors.stateTransaction('missing key');
      const key = this.key(actorType, actorId, op.key);
      if (op.operation === 'delete') {
        ops.push({ type: 'delete', request: { key } });
        continue;
      }
      let ttlSeconds: number | undefined;
      if (op.metadata && 'ttlInSeconds' in op.metadata) {
        if (!this.options.ttlEnabled) throw actorErrors.stateTransaction('ttlInSeconds is not supported without the "ActorStateTTL" feature enabled');
        try {
          ttlSeconds = parseTtl(op.metadata);
        } catch (err) {
          throw actorErrors.stateTransaction(errorMessage(err));
        }
      }
      ops.push({ type: 'upsert', request: { key, value: op.value, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) } });
    }
    if (ops.length === 0) return;
    const max = store.maxTransactionOperations?.();
    if (max !== undefined && ops.length > max) throw actorErrors.stateTransaction('the transaction contains more operations than supported by the state store');
    try {
      await store.multi(ops);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw actorErrors.stateTransaction(errorMessage(err));
    }
  }

  /** The name of the store actor state lives in, for the banner. */
  describe(): string {
    const declared = this.declared();
    return declared ? `${declared.name} (${declared.type})` : `embedded SQLite in ${this.embeddedFile()}`;
  }

  /** Closes the embedded store if it was opened. */
  async close(): Promise<void> {
    const embedded = this.embedded;
    this.embedded = undefined;
    if (embedded) await (await embedded.catch(() => undefined))?.close();
  }

  private declared(): LoadedComponent | undefined {
    return this.options.components.ofKind('state').find((c) => isActorStateStore(c.properties));
  }

  private embeddedFile(): string {
    return path.join(this.options.dataDir, 'actors-state.sqlite');
  }

  private async store(): Promise<TransactionalStateStore> {
    const declared = this.declared();
    if (declared) {
      const store = declared.instance as TransactionalStateStore;
      const features = store.features();
      if (!isTransactional(store) || !features.includes('ETAG') || !features.includes('TRANSACTIONAL')) throw actorErrors.runtimeNotFound();
      return store;
    }
    this.embedded ??= (async () => {
      const store = new SqliteStateStore();
      const { appId, dataDir, logger } = this.options;
      await store.init({ connectionString: this.embeddedFile() }, { name: 'actorstatestore', appId, namespace: '', dataDir, logger: logger.child('weft.runtime.actors.state'), env: {} });
      logger.info(`actors: no state store has actorStateStore "true"; actor state lives in ${this.embeddedFile()}`);
      return store;
    })();
    return this.embedded;
  }
}
