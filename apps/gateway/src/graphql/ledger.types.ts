import { Field, GraphQLISODateTime, ID, InputType, ObjectType } from '@nestjs/graphql';
import { GraphQLScalarType, Kind } from 'graphql';
import { PageInfo } from './payment.types';

/** Ledger totals outgrow GraphQL's 32-bit Int: a JSON number, always a safe integer. */
export const MinorUnitsScalar = new GraphQLScalarType({
  name: 'MinorUnits',
  description: 'An integer amount in minor units (up to 2^53 − 1), never a float.',
  serialize: (value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value))
      throw new TypeError('MinorUnits must be a safe integer');
    return value;
  },
  parseValue: (value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value))
      throw new TypeError('MinorUnits must be a safe integer');
    return value;
  },
  parseLiteral: (node) => {
    if (node.kind !== Kind.INT) throw new TypeError('MinorUnits must be an integer');
    const n = Number(node.value);
    if (!Number.isSafeInteger(n)) throw new TypeError('MinorUnits must be a safe integer');
    return n;
  },
});

@ObjectType({ description: 'Debits, credits and their difference toward the normal side.' })
export class LedgerSideTotals {
  @Field(() => MinorUnitsScalar) debits: number;
  @Field(() => MinorUnitsScalar) credits: number;
  @Field(() => MinorUnitsScalar) balance: number;
}

@ObjectType()
export class LedgerBalance {
  @Field() currency: string;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'Null: current balance.' })
  asOf?: Date | null;
  @Field(() => LedgerSideTotals) posted: LedgerSideTotals;
  @Field(() => LedgerSideTotals, { description: 'Authorization holds not yet captured.' })
  pending: LedgerSideTotals;
}

@ObjectType()
export class LedgerAccount {
  @Field(() => ID) code: string;
  @Field() name: string;
  @Field({ description: 'asset, liability, revenue, expense or equity' }) type: string;
  @Field({ description: 'debit or credit' }) normalSide: string;
  @Field() currency: string;
  @Field(() => String, { nullable: true }) processor?: string | null;
}

@ObjectType()
export class JournalLine {
  @Field() accountCode: string;
  @Field({ description: 'debit or credit' }) direction: string;
  @Field(() => MinorUnitsScalar) amount: number;
  @Field() currency: string;
}

@ObjectType()
export class JournalEntry {
  @Field(() => ID) id: string;
  @Field() sourceEventId: string;
  @Field() kind: string;
  @Field(() => String, { nullable: true }) paymentId?: string | null;
  @Field({ description: 'posted or pending' }) status: string;
  @Field(() => GraphQLISODateTime) occurredAt: Date;
  @Field(() => GraphQLISODateTime) postedAt: Date;
  @Field(() => [JournalLine]) lines: JournalLine[];
}

@ObjectType()
export class JournalEntryEdge {
  @Field() cursor: string;
  @Field(() => JournalEntry) node: JournalEntry;
}

@ObjectType()
export class JournalEntryConnection {
  @Field(() => [JournalEntryEdge]) edges: JournalEntryEdge[];
  @Field(() => PageInfo) pageInfo: PageInfo;
}

@InputType()
export class JournalEntryFilter {
  @Field(() => ID, { nullable: true }) paymentId?: string;
}

@ObjectType()
export class TrialBalanceRow {
  @Field() accountCode: string;
  @Field() type: string;
  @Field(() => MinorUnitsScalar) debits: number;
  @Field(() => MinorUnitsScalar) credits: number;
}

@ObjectType({ description: 'Posted totals of every account of one currency.' })
export class TrialBalance {
  @Field() currency: string;
  @Field(() => GraphQLISODateTime, { nullable: true }) asOf?: Date | null;
  @Field(() => [TrialBalanceRow]) rows: TrialBalanceRow[];
  @Field(() => MinorUnitsScalar) debits: number;
  @Field(() => MinorUnitsScalar) credits: number;
  @Field() balanced: boolean;
}
