import { Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import {
  UnknownWebhookProcessor,
  WebhookIntakeService,
  WebhookRejected,
} from '../../../../libs/payments/src';

/** Where each processor puts its signature (lower-case, as Node gives headers). */
const SIGNATURE_HEADERS: Readonly<Record<string, string>> = {
  stripe: 'stripe-signature',
  simulator: 'simulator-signature',
};

/**
 * `POST /webhooks/:processor`: verify, store once, answer 200 at once (the worker applies).
 * The body arrives as the raw bytes (see main.ts): signatures are over those, not over JSON.
 */
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly intake: WebhookIntakeService) {}

  @Post(':processor')
  @HttpCode(200)
  async receive(
    @Param('processor') processor: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const header = request.headers[SIGNATURE_HEADERS[processor] ?? ''];
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    try {
      const receipt = await this.intake.receive(
        processor,
        body,
        typeof header === 'string' ? header : undefined,
      );
      return reply.code(200).send(receipt);
    } catch (error) {
      if (error instanceof WebhookRejected) {
        return reply
          .code(400)
          .send({ error: error.error, reason: error.reason, message: error.message });
      }
      if (error instanceof UnknownWebhookProcessor) {
        return reply.code(404).send({ error: 'not_found', message: error.message });
      }
      throw error;
    }
  }
}
