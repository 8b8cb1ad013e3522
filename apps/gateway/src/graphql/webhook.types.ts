import {
  Field,
  GraphQLISODateTime,
  ID,
  InputType,
  Int,
  ObjectType,
  registerEnumType,
} from '@nestjs/graphql';
import { WEBHOOK_EVENT_STATUSES } from '../../../../libs/payments/src';
import { JSONScalar, PageInfo } from './payment.types';

export const WebhookEventStatusEnum = Object.fromEntries(
  WEBHOOK_EVENT_STATUSES.map((s) => [s, s]),
) as Record<(typeof WEBHOOK_EVENT_STATUSES)[number], string>;
registerEnumType(WebhookEventStatusEnum, {
  name: 'WebhookEventStatus',
  description: 'received → applied | ignored (stale or unused) | orphan (unknown to us) | failed',
});

@ObjectType({ description: 'A verified processor webhook, stored once.' })
export class WebhookEvent {
  @Field(() => ID) id: string;
  @Field() processor: string;
  @Field() processorEventId: string;
  @Field() type: string;
  @Field(() => WebhookEventStatusEnum) status: string;
  @Field(() => Int) attempts: number;
  @Field(() => String, { nullable: true, description: 'why it was ignored, orphaned or failed' })
  lastError?: string | null;
  @Field(() => GraphQLISODateTime) occurredAt: Date;
  @Field(() => GraphQLISODateTime) receivedAt: Date;
  @Field(() => GraphQLISODateTime, { nullable: true }) appliedAt?: Date | null;
  @Field(() => JSONScalar, { nullable: true }) payload?: unknown;
}

@ObjectType()
export class WebhookEventEdge {
  @Field() cursor: string;
  @Field(() => WebhookEvent) node: WebhookEvent;
}

@ObjectType()
export class WebhookEventConnection {
  @Field(() => [WebhookEventEdge]) edges: WebhookEventEdge[];
  @Field(() => PageInfo) pageInfo: PageInfo;
}

@InputType()
export class WebhookEventFilter {
  @Field(() => String, { nullable: true }) processor?: string | null;
  @Field(() => String, { nullable: true }) type?: string | null;
  @Field(() => WebhookEventStatusEnum, { nullable: true }) status?: string | null;
}
