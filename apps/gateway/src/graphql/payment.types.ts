import {
  Field,
  GraphQLISODateTime,
  ID,
  InputType,
  Int,
  ObjectType,
  registerEnumType,
} from '@nestjs/graphql';
import { GraphQLScalarType, Kind, ValueNode } from 'graphql';
import {
  CAPTURE_METHODS,
  PAYMENT_STATUSES,
  PRIORITIES,
  REFUND_STATUSES,
} from '../../../../libs/domain/src';

const enumOf = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((v) => [v, v])) as Record<T, T>;

export const PaymentStatusEnum = enumOf(PAYMENT_STATUSES);
export const CaptureMethodEnum = enumOf(CAPTURE_METHODS);
export const PriorityEnum = enumOf(PRIORITIES);
export const RefundStatusEnum = enumOf(REFUND_STATUSES);
registerEnumType(PaymentStatusEnum, { name: 'PaymentStatus' });
registerEnumType(CaptureMethodEnum, { name: 'CaptureMethod' });
registerEnumType(PriorityEnum, { name: 'Priority' });
registerEnumType(RefundStatusEnum, { name: 'RefundStatus' });

function literalValue(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map(literalValue);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literalValue(f.value)]));
    default:
      throw new TypeError('JSON values cannot hold variables inside literals');
  }
}

/** Arbitrary JSON (used for metadata; its shape is checked by the payments validation). */
export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'A JSON value. Payment metadata is a flat object of string keys and string values.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (node) => literalValue(node),
});

@ObjectType()
export class PaymentFailure {
  @Field() code: string;
  @Field(() => String, { nullable: true }) declineCode?: string | null;
  @Field() message: string;
  @Field() retryable: boolean;
}

@ObjectType()
export class NextAction {
  @Field() type: string;
  @Field(() => String, { nullable: true }) clientSecret?: string | null;
  @Field(() => String, { nullable: true }) redirectUrl?: string | null;
}

@ObjectType()
export class PaymentAttempt {
  @Field(() => ID) id: string;
  @Field() processor: string;
  @Field() operation: string;
  @Field() outcome: string;
  @Field(() => Int, { nullable: true }) latencyMs?: number | null;
  @Field(() => String, { nullable: true }) errorKind?: string | null;
  @Field(() => GraphQLISODateTime) createdAt: Date;
}

@ObjectType()
export class Refund {
  @Field(() => ID) id: string;
  @Field(() => ID) paymentId: string;
  @Field(() => RefundStatusEnum) status: string;
  @Field(() => Int) amount: number;
  @Field() currency: string;
  @Field(() => String, { nullable: true }) reason?: string | null;
  @Field(() => GraphQLISODateTime) createdAt: Date;
}

@ObjectType({ description: 'Which processors may take the payment, in order, and why.' })
export class RouteDecision {
  @Field() rule: string;
  @Field() reason: string;
  @Field(() => [String]) processors: string[];
}

@ObjectType()
export class PaymentMethod {
  @Field(() => ID) id: string;
  @Field(() => [String]) processors: string[];
  @Field(() => String, { nullable: true }) customerId?: string | null;
  @Field(() => String, { nullable: true }) label?: string | null;
  @Field(() => GraphQLISODateTime) createdAt: Date;
}

@InputType()
export class PaymentMethodTokenInput {
  @Field() processor: string;
  @Field() token: string;
}

@InputType()
export class CreatePaymentMethodInput {
  @Field() idempotencyKey: string;
  @Field(() => [PaymentMethodTokenInput]) tokens: PaymentMethodTokenInput[];
  @Field(() => String, { nullable: true }) customerId?: string | null;
  @Field(() => String, { nullable: true }) label?: string | null;
}

@ObjectType()
export class Payment {
  @Field(() => ID) id: string;
  @Field(() => PaymentStatusEnum) status: string;
  @Field(() => Int) amount: number;
  @Field() currency: string;
  @Field(() => Int) amountCaptured: number;
  @Field(() => Int) amountRefunded: number;
  @Field(() => CaptureMethodEnum) captureMethod: string;
  @Field(() => String, { nullable: true }) processor?: string | null;
  @Field(() => String, { nullable: true }) processorReference?: string | null;
  @Field(() => PaymentFailure, { nullable: true }) failure?: PaymentFailure | null;
  @Field(() => NextAction, { nullable: true }) nextAction?: NextAction | null;
  @Field(() => [PaymentAttempt]) attempts: PaymentAttempt[];
  @Field(() => [Refund]) refunds: Refund[];
  @Field(() => JSONScalar, { nullable: true }) metadata?: unknown;
  @Field(() => GraphQLISODateTime) createdAt: Date;
  @Field(() => GraphQLISODateTime) updatedAt: Date;
  @Field(() => RouteDecision, { nullable: true, description: 'The route chosen at intake.' })
  routing?: RouteDecision | null;
  @Field(() => String, { nullable: true }) country?: string | null;
}

@ObjectType()
export class PaymentEdge {
  @Field() cursor: string;
  @Field(() => Payment) node: Payment;
}

@ObjectType()
export class PageInfo {
  @Field() hasNextPage: boolean;
  @Field() hasPreviousPage: boolean;
  @Field(() => String, { nullable: true }) startCursor?: string | null;
  @Field(() => String, { nullable: true }) endCursor?: string | null;
}

@ObjectType()
export class PaymentConnection {
  @Field(() => [PaymentEdge]) edges: PaymentEdge[];
  @Field(() => PageInfo) pageInfo: PageInfo;
}

@InputType()
export class PaymentFilter {
  @Field(() => PaymentStatusEnum, { nullable: true }) status?: string | null;
  @Field(() => String, { nullable: true }) processor?: string | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) createdFrom?: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) createdTo?: Date | null;
}

@InputType()
export class CreatePaymentInput {
  @Field({ description: '1..255 characters; replays return the first result' })
  idempotencyKey: string;
  @Field(() => Int, { description: 'minor units, > 0' }) amount: number;
  @Field({ description: 'ISO 4217 alpha-3, case-insensitive in, upper-case out' }) currency: string;
  @Field({ description: 'processor token (pm_…, sim_…); never a card number' })
  paymentMethod: string;
  @Field(() => CaptureMethodEnum, { nullable: true }) captureMethod?: 'AUTOMATIC' | 'MANUAL' | null;
  @Field(() => String, { nullable: true }) customerId?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => JSONScalar, { nullable: true }) metadata?: unknown;
  @Field(() => PriorityEnum, { nullable: true }) priority?: 'CHECKOUT' | 'BACKGROUND' | null;
  @Field(() => String, { nullable: true }) processor?: string | null;
  @Field(() => String, { nullable: true, description: 'ISO 3166-1 alpha-2, for routing rules' })
  country?: string | null;
}

@InputType()
export class CapturePaymentInput {
  @Field() idempotencyKey: string;
  @Field(() => ID) paymentId: string;
  @Field(() => Int, { nullable: true }) amount?: number | null;
}

@InputType()
export class CancelPaymentInput {
  @Field() idempotencyKey: string;
  @Field(() => ID) paymentId: string;
}

@InputType()
export class RefundPaymentInput {
  @Field() idempotencyKey: string;
  @Field(() => ID) paymentId: string;
  @Field(() => Int, { nullable: true }) amount?: number | null;
  @Field(() => String, { nullable: true }) reason?: string | null;
}
