import { OutboxMessage } from '../../../messaging/src';

/** What applying one webhook did: the event's new status, why, and the facts to announce. */
export interface Outcome {
  readonly status: 'applied' | 'ignored' | 'orphan';
  readonly reason: string | null;
  readonly messages: OutboxMessage[];
}

export const applied = (messages: OutboxMessage[] = []): Outcome => ({
  status: 'applied',
  reason: null,
  messages,
});
export const ignored = (reason: string): Outcome => ({ status: 'ignored', reason, messages: [] });
export const orphan = (reason: string): Outcome => ({ status: 'orphan', reason, messages: [] });
