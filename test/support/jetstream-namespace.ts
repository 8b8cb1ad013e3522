import { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Subjects } from '../../libs/contracts/src';
import { connectNats, ensureStreams } from '../../libs/messaging/src';
import { uniqueName } from './database';

export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export interface TestNamespace {
  readonly subjects: Subjects;
  readonly nc: NatsConnection;
  streamMessages(stream: string): Promise<number>;
  drop(): Promise<void>;
}

/** A private NATS namespace (own streams and subjects) for one test file. */
export async function createTestNamespace(): Promise<TestNamespace> {
  const subjects = new Subjects(uniqueName('t'));
  const nc = await connectNats(TEST_NATS_URL, 'jest');
  const jsm = await ensureStreams(nc, subjects);
  return {
    subjects,
    nc,
    streamMessages: async (stream) => (await jsm.streams.info(stream)).state.messages,
    drop: async () => {
      for (const s of Object.values(subjects.streams))
        await jsm.streams.delete(s.name).catch(() => undefined);
      await nc.drain();
    },
  };
}

export async function purgeStreams(nc: NatsConnection, subjects: Subjects): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const s of Object.values(subjects.streams)) await jsm.streams.purge(s.name);
}
