/**
 * Conversation state (the seed's assistant chat context): one state key per conversation holding
 * its messages, appended with optimistic concurrency and kept for a day after the last message.
 */
import { randomUUID } from 'node:crypto';
import type { StateClient } from '../shared/state.js';

/** One message of a conversation. */
export interface Message {
  role: 'user' | 'assistant' | 'system';
  content: string;
  timestamp: string;
}

/** A conversation as stored and returned. */
export interface Conversation {
  conversation_id: string;
  user_id: string;
  created_at: string;
  messages: Message[];
}

const TTL_SECONDS = 24 * 3600;
/** Older messages are dropped past this, to keep the state value small. */
const MAX_MESSAGES = 200;

/** Conversations in the state store. */
export class ConversationService {
  constructor(private readonly state: StateClient) {}

  private static key(id: string): string {
    return `conversation:${id}`;
  }

  async create(userId: string): Promise<Conversation> {
    const conversation: Conversation = { conversation_id: randomUUID(), user_id: userId, created_at: new Date().toISOString(), messages: [] };
    await this.state.save(ConversationService.key(conversation.conversation_id), conversation, { firstWrite: true, ttlSeconds: TTL_SECONDS });
    return conversation;
  }

  /** The conversation, if it exists and belongs to `userId`. */
  async get(userId: string, id: string): Promise<Conversation | undefined> {
    const found = await this.state.get<Conversation>(ConversationService.key(id));
    return found && found.value.user_id === userId ? found.value : undefined;
  }

  /** Appends a message; undefined when the conversation does not exist for this user. */
  async addMessage(userId: string, id: string, message: Omit<Message, 'timestamp'>): Promise<Conversation | undefined> {
    const entry: Message = { ...message, timestamp: new Date().toISOString() };
    return this.state.update<Conversation, Conversation | undefined>(
      ConversationService.key(id),
      (current) => {
        if (!current || current.user_id !== userId) return { skip: true, result: undefined };
        const next = { ...current, messages: [...current.messages, entry].slice(-MAX_MESSAGES) };
        return { value: next, result: next };
      },
      { ttlSeconds: TTL_SECONDS },
    );
  }
}
