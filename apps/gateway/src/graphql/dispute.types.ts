import {
  Field,
  GraphQLISODateTime,
  ID,
  InputType,
  Int,
  ObjectType,
  registerEnumType,
} from '@nestjs/graphql';
import { DISPUTE_STATUSES, DisputeStatus } from '../../../../libs/domain/src';
import { PageInfo } from './payment.types';

export const DisputeStatusEnum = Object.fromEntries(DISPUTE_STATUSES.map((s) => [s, s])) as Record<
  DisputeStatus,
  DisputeStatus
>;
registerEnumType(DisputeStatusEnum, {
  name: 'DisputeStatus',
  description:
    'WARNING_* are inquiries; NEEDS_RESPONSE → UNDER_REVIEW → WON | LOST. Closed ones never reopen.',
});

@ObjectType({
  description: 'A dispute (chargeback or inquiry) of a payment, as its processor reports it.',
})
export class Dispute {
  @Field(() => ID) id: string;
  @Field(() => ID) paymentId: string;
  @Field(() => DisputeStatusEnum) status: string;
  @Field(() => Int, { description: 'minor units disputed' }) amount: number;
  @Field() currency: string;
  @Field(() => String, { nullable: true }) reason?: string | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) evidenceDueBy?: Date | null;
  @Field(() => GraphQLISODateTime) createdAt: Date;
  @Field(() => GraphQLISODateTime) updatedAt: Date;
}

@ObjectType()
export class DisputeEdge {
  @Field() cursor: string;
  @Field(() => Dispute) node: Dispute;
}

@ObjectType()
export class DisputeConnection {
  @Field(() => [DisputeEdge]) edges: DisputeEdge[];
  @Field(() => PageInfo) pageInfo: PageInfo;
}

@InputType()
export class DisputeFilter {
  @Field(() => DisputeStatusEnum, { nullable: true }) status?: DisputeStatus | null;
  @Field(() => ID, { nullable: true }) paymentId?: string | null;
}
