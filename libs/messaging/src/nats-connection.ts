import { NatsConnection, connect } from '@nats-io/transport-node';
import {
  JetStreamApiError,
  JetStreamManager,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
} from '@nats-io/jetstream';
import { StreamSpec, Subjects } from '../../contracts/src';

const NANOS_PER_MS = 1_000_000;

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  const u = new URL(url);
  return connect({
    servers: `${u.hostname}:${u.port || 4222}`,
    name,
    maxReconnectAttempts: -1,
    // No Error (with its stack) made up front for every request, e.g. each JetStream publish of
    // the outbox: ~4 % of the gateway's CPU under load. Timeouts still reject with an error.
    noAsyncTraces: true,
  });
}

/** Creates or updates the streams this service relies on (idempotent, safe at every start). */
export async function ensureStreams(
  nc: NatsConnection,
  subjects: Subjects,
): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  const { commands, events, finance, deadLetters } = subjects.streams;
  for (const spec of [commands, events, finance, deadLetters]) await ensureStream(jsm, spec);
  return jsm;
}

async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<void> {
  const config = {
    name: spec.name,
    subjects: [...spec.subjects],
    retention: spec.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: spec.maxAgeSeconds * 1000 * NANOS_PER_MS,
    duplicate_window: 10 * 60 * 1000 * NANOS_PER_MS,
  };
  try {
    // Adding a stream that exists with the same config succeeds; with another config it fails
    // and we update it instead (e.g. a changed max_age after a deploy).
    await jsm.streams.add(config);
  } catch (error) {
    if (!(error instanceof JetStreamApiError)) throw error;
    await jsm.streams.update(spec.name, config);
  }
}

export { NANOS_PER_MS };
