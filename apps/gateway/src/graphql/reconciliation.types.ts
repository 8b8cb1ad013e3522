import {
  Field,
  GraphQLISODateTime,
  ID,
  InputType,
  Int,
  ObjectType,
  registerEnumType,
} from '@nestjs/graphql';
import { MinorUnitsScalar } from './ledger.types';
import { JSONScalar, PageInfo } from './payment.types';

/** Values are the ledger's lower-case names, upper-cased. */
export enum ReconciliationStatus {
  MATCHED = 'MATCHED',
  AMOUNT_MISMATCH = 'AMOUNT_MISMATCH',
  FEE_MISMATCH = 'FEE_MISMATCH',
  CURRENCY_MISMATCH = 'CURRENCY_MISMATCH',
  MISSING_IN_LEDGER = 'MISSING_IN_LEDGER',
  MISSING_AT_PROCESSOR = 'MISSING_AT_PROCESSOR',
  DUPLICATE = 'DUPLICATE',
}
registerEnumType(ReconciliationStatus, {
  name: 'ReconciliationStatus',
  description:
    'How one item (charge, refund, dispute, payout) compares: processor ↔ gateway ↔ ledger.',
});

export enum ReconciliationExceptionType {
  AMOUNT_MISMATCH = 'AMOUNT_MISMATCH',
  FEE_MISMATCH = 'FEE_MISMATCH',
  CURRENCY_MISMATCH = 'CURRENCY_MISMATCH',
  MISSING_IN_LEDGER = 'MISSING_IN_LEDGER',
  MISSING_AT_PROCESSOR = 'MISSING_AT_PROCESSOR',
  DUPLICATE = 'DUPLICATE',
}
registerEnumType(ReconciliationExceptionType, { name: 'ReconciliationExceptionType' });

export enum ReconciliationExceptionStatus {
  OPEN = 'OPEN',
  RESOLVED = 'RESOLVED',
  IGNORED = 'IGNORED',
}
registerEnumType(ReconciliationExceptionStatus, { name: 'ReconciliationExceptionStatus' });

export enum ReconciliationResolution {
  RESOLVED = 'RESOLVED',
  IGNORED = 'IGNORED',
}
registerEnumType(ReconciliationResolution, {
  name: 'ReconciliationResolution',
  description:
    'RESOLVED: the difference is understood (optionally corrected); IGNORED: accepted as is.',
});

@InputType({ description: 'Items whose business time is in [from, to).' })
export class ReconciliationPeriodInput {
  @Field(() => GraphQLISODateTime) from: Date;
  @Field(() => GraphQLISODateTime) to: Date;
}

@InputType()
export class ReconciliationExceptionFilter {
  @Field(() => ReconciliationExceptionStatus, { nullable: true })
  status?: ReconciliationExceptionStatus | null;
  @Field(() => ReconciliationExceptionType, { nullable: true })
  type?: ReconciliationExceptionType | null;
  @Field(() => String, { nullable: true }) processor?: string | null;
  @Field(() => String, { nullable: true }) currency?: string | null;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'Opened at or after.' })
  openedAfter?: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'Opened before.' })
  openedBefore?: Date | null;
}

@InputType()
export class ResolveReconciliationExceptionInput {
  @Field(() => ID) id: string;
  @Field(() => ReconciliationResolution) resolution: ReconciliationResolution;
  @Field({ description: 'Why (required, 1–1000 characters); audited with the API key.' })
  reason: string;
  @Field(() => Boolean, {
    nullable: true,
    description:
      'RESOLVED only: book the difference between the processor receivable and suspense:<CUR> (docs/reconciliation.md).',
  })
  postCorrection?: boolean | null;
}

@ObjectType()
export class ReconciliationStatusTotal {
  @Field(() => ReconciliationStatus) status: ReconciliationStatus;
  @Field() currency: string;
  @Field(() => Int) count: number;
  @Field(() => MinorUnitsScalar) amountAtStake: number;
}

@ObjectType()
export class ReconciliationCurrencyTotal {
  @Field() currency: string;
  @Field(() => Int) itemCount: number;
  @Field(() => MinorUnitsScalar) amountAtStake: number;
  @Field(() => Int) openExceptionCount: number;
  @Field(() => MinorUnitsScalar) openAmountAtStake: number;
}

@ObjectType({
  description: 'Counts and amounts at stake per status; never summed across currencies.',
})
export class ReconciliationSummary {
  @Field(() => GraphQLISODateTime) from: Date;
  @Field(() => GraphQLISODateTime) to: Date;
  @Field(() => String, { nullable: true }) processor?: string | null;
  @Field(() => String, { nullable: true }) currency?: string | null;
  @Field(() => [ReconciliationStatusTotal]) byStatus: ReconciliationStatusTotal[];
  @Field(() => [ReconciliationCurrencyTotal]) totals: ReconciliationCurrencyTotal[];
  @Field(() => Int) itemCount: number;
  @Field(() => Int) openExceptionCount: number;
}

@ObjectType({
  description: 'What was compared. Amounts are signed as their effect on the processor balance.',
})
export class ReconciliationItem {
  @Field(() => ID) id: string;
  @Field({ description: 'charge, refund, dispute, payout or other' }) kind: string;
  @Field(() => ReconciliationStatus) status: ReconciliationStatus;
  @Field() processor: string;
  @Field() currency: string;
  @Field(() => String, { nullable: true }) paymentId?: string | null;
  @Field(() => String, { nullable: true }) refundId?: string | null;
  @Field(() => String, { nullable: true }) disputeId?: string | null;
  @Field(() => String, { nullable: true }) payoutId?: string | null;
  @Field(() => String, { nullable: true, description: "The processor's reference (ch_…, re_…)" })
  sourceReference?: string | null;
  @Field(() => Int) balanceTransactionCount: number;
  @Field(() => MinorUnitsScalar, { nullable: true }) processorAmount?: number | null;
  @Field(() => MinorUnitsScalar, { nullable: true }) processorFee?: number | null;
  @Field(() => String, { nullable: true }) processorCurrency?: string | null;
  @Field(() => MinorUnitsScalar, { nullable: true }) gatewayAmount?: number | null;
  @Field(() => MinorUnitsScalar, { nullable: true }) ledgerAmount?: number | null;
  @Field(() => MinorUnitsScalar, { nullable: true }) ledgerFee?: number | null;
  @Field(() => MinorUnitsScalar) amountAtStake: number;
  @Field(() => GraphQLISODateTime) occurredAt: Date;
}

@ObjectType()
export class ReconciliationExceptionAudit {
  @Field({ description: 'opened, resolved, ignored, auto_resolved…' }) action: string;
  @Field({ description: 'The API client id, or the system' }) actor: string;
  @Field() reason: string;
  @Field(() => JSONScalar, { nullable: true }) details?: unknown;
  @Field(() => GraphQLISODateTime) at: Date;
}

@ObjectType()
export class ReconciliationException {
  @Field(() => ID) id: string;
  @Field(() => ReconciliationExceptionType) type: ReconciliationExceptionType;
  @Field(() => ReconciliationExceptionStatus) status: ReconciliationExceptionStatus;
  @Field() processor: string;
  @Field() currency: string;
  @Field(() => MinorUnitsScalar) amountAtStake: number;
  @Field(() => GraphQLISODateTime) openedAt: Date;
  @Field(() => Int, { description: 'Seconds open: until now, or until resolved/ignored.' })
  ageSeconds: number;
  @Field(() => GraphQLISODateTime, { nullable: true }) resolvedAt?: Date | null;
  @Field(() => String, { nullable: true }) resolvedBy?: string | null;
  @Field(() => String, { nullable: true }) resolutionReason?: string | null;
  @Field(() => String, {
    nullable: true,
    description:
      'Source id of the correcting journal entry (`<id>:correction`), if one was booked.',
  })
  correctionSourceId?: string | null;
  @Field(() => ReconciliationItem) item: ReconciliationItem;
  @Field(() => [ReconciliationExceptionAudit]) audit: ReconciliationExceptionAudit[];
}

@ObjectType()
export class ReconciliationExceptionEdge {
  @Field() cursor: string;
  @Field(() => ReconciliationException) node: ReconciliationException;
}

@ObjectType({ description: 'Oldest opened first.' })
export class ReconciliationExceptionConnection {
  @Field(() => [ReconciliationExceptionEdge]) edges: ReconciliationExceptionEdge[];
  @Field(() => PageInfo) pageInfo: PageInfo;
}

@ObjectType({
  description: 'A payout against the sum of its balance transactions and the bank posting.',
})
export class PayoutReconciliation {
  @Field(() => ID) payoutId: string;
  @Field() processor: string;
  @Field() currency: string;
  @Field(() => MinorUnitsScalar) payoutAmount: number;
  @Field(() => MinorUnitsScalar, {
    nullable: true,
    description: 'Net of the balance transactions it paid out; null when none is linked.',
  })
  balanceTransactionTotal?: number | null;
  @Field(() => MinorUnitsScalar, {
    nullable: true,
    description: 'The bank posting booked for it; null when nothing is booked.',
  })
  ledgerBankAmount?: number | null;
  @Field(() => ReconciliationStatus) status: ReconciliationStatus;
  @Field(() => Int) itemCount: number;
}
