import { Controller, Get, Inject, Res } from '@nestjs/common';
import { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Subjects } from '../../../../libs/contracts/src';
import { NATS_CONNECTION, OutboxRelay } from '../../../../libs/messaging/src';
import { Metrics } from '../../../../libs/observability/src';

const STATUS_SAMPLE_MS = 15_000;

/** Prometheus exposition. Lag gauges are measured at scrape time; status counts at most every 15 s. */
@Controller()
export class MetricsController {
  private statusSampledAt = 0;

  constructor(
    private readonly metrics: Metrics,
    private readonly relay: OutboxRelay,
    private readonly dataSource: DataSource,
    private readonly subjects: Subjects,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  @Get('metrics')
  async metricsText(@Res() reply: FastifyReply) {
    await Promise.allSettled([
      this.relay.measureLag(),
      this.measureConsumerLag(),
      this.sampleStatuses(),
    ]);
    return reply
      .header('content-type', this.metrics.registry.contentType)
      .send(await this.metrics.registry.metrics());
  }

  private async measureConsumerLag(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.consumers.info(
      this.subjects.streams.commands.name,
      this.subjects.workerDurable,
    );
    this.metrics.consumerLag.set(
      { consumer: this.subjects.workerDurable },
      info.num_pending + info.num_ack_pending,
    );
  }

  private async sampleStatuses(): Promise<void> {
    if (Date.now() - this.statusSampledAt < STATUS_SAMPLE_MS) return;
    this.statusSampledAt = Date.now();
    const rows: { status: string; n: number }[] = await this.dataSource.query(
      `SELECT status, count(*)::int AS n FROM payments GROUP BY status`,
    );
    this.metrics.paymentsByStatus.reset();
    for (const { status, n } of rows) this.metrics.paymentsByStatus.set({ status }, n);
    const [open] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM disputes
       WHERE status NOT IN ('WARNING_CLOSED', 'WON', 'LOST', 'PREVENTED')`,
    );
    this.metrics.disputesOpen.set(open.n);
  }
}
