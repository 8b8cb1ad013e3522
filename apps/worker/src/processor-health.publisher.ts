import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { PROCESSOR_ADAPTERS, ProcessorAdapter, Subjects } from '../../../libs/contracts/src';
import { NATS_CONNECTION } from '../../../libs/messaging/src';
import { LOGGER, Logger } from '../../../libs/observability/src';
import { ProcessorControlService } from '../../../libs/payments/src';
import { ResilientProcessor } from '../../../libs/resilience/src';

const INTERVAL_MS = 1000;

/**
 * Every second: applies operator pause/resume from the database to this worker's processors,
 * and publishes their health (breaker, limiter, bulkhead) for the gateway's processorHealth.
 */
@Injectable()
export class ProcessorHealthPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly workerId = randomUUID();
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(PROCESSOR_ADAPTERS) private readonly adapters: ProcessorAdapter[],
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly controls: ProcessorControlService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), INTERVAL_MS);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private get processors(): ResilientProcessor[] {
    return this.adapters.filter((a): a is ResilientProcessor => a instanceof ResilientProcessor);
  }

  private async tick(): Promise<void> {
    try {
      await this.applyControls();
      if (this.nc.isClosed()) return;
      const report = {
        workerId: this.workerId,
        at: Date.now(),
        processors: this.processors.map((p) => p.health()),
      };
      this.nc.publish(this.subjects.processorHealth, JSON.stringify(report));
    } catch (error) {
      this.logger.warn({ err: error }, 'processor health tick failed');
    }
  }

  private async applyControls(): Promise<void> {
    const byName = new Map((await this.controls.list()).map((c) => [c.processor, c]));
    for (const processor of this.processors) {
      const control = byName.get(processor.name);
      const paused = processor.health().paused;
      if (control?.paused && !paused) {
        processor.pause(control.reason ?? 'paused by an operator');
        this.logger.warn({ processor: processor.name, by: control.changedBy }, 'processor paused');
      } else if (!control?.paused && paused) {
        processor.resume();
        this.logger.warn({ processor: processor.name }, 'processor resumed');
      }
    }
  }
}
