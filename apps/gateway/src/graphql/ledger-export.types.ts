import { MinorUnitsScalar } from './ledger.types';
import {
  Field,
  GraphQLISODateTime,
  ID,
  InputType,
  Int,
  ObjectType,
  registerEnumType,
} from '@nestjs/graphql';
import { ExportFormat } from '../../../../libs/ledger/src/exports';

export enum LedgerExportFormat {
  NETSUITE_CSV = 'NETSUITE_CSV',
  QUICKBOOKS_ONLINE_CSV = 'QUICKBOOKS_ONLINE_CSV',
  CSV = 'CSV',
  JSONL = 'JSONL',
}
registerEnumType(LedgerExportFormat, {
  name: 'LedgerExportFormat',
  description: 'NetSuite journal entry CSV, QuickBooks Online journal CSV, generic CSV or JSONL.',
});

export const FORMAT_TO_LEDGER: Readonly<Record<LedgerExportFormat, ExportFormat>> = {
  [LedgerExportFormat.NETSUITE_CSV]: 'netsuite',
  [LedgerExportFormat.QUICKBOOKS_ONLINE_CSV]: 'quickbooks',
  [LedgerExportFormat.CSV]: 'csv',
  [LedgerExportFormat.JSONL]: 'jsonl',
};

export const FORMAT_FROM_LEDGER: Readonly<Record<ExportFormat, LedgerExportFormat>> = {
  netsuite: LedgerExportFormat.NETSUITE_CSV,
  quickbooks: LedgerExportFormat.QUICKBOOKS_ONLINE_CSV,
  csv: LedgerExportFormat.CSV,
  jsonl: LedgerExportFormat.JSONL,
};

@InputType({ description: 'Posted journal lines whose business time is in [from, to).' })
export class LedgerExportInput {
  @Field(() => LedgerExportFormat) format: LedgerExportFormat;
  @Field(() => GraphQLISODateTime) from: Date;
  @Field(() => GraphQLISODateTime) to: Date;
  @Field(() => String, { nullable: true, description: 'ISO 4217; all currencies when absent.' })
  currency?: string | null;
}

@ObjectType({ description: 'A journal export for an ERP, produced by the ledger.' })
export class LedgerExport {
  @Field(() => ID) id: string;
  @Field(() => LedgerExportFormat) format: LedgerExportFormat;
  @Field({ description: 'pending, running, completed or failed' }) status: string;
  @Field(() => String, {
    nullable: true,
    description: 'GET it with the same bearer key (scope ledger:export) once completed.',
  })
  downloadPath?: string | null;
  @Field(() => Int, { nullable: true }) entryCount?: number | null;
  @Field(() => Int, { nullable: true }) lineCount?: number | null;
  @Field(() => Int, {
    nullable: true,
    description: 'Minor units; null beyond the 32-bit range of Int (read totalDebitsMinor).',
  })
  totalDebits?: number | null;
  @Field(() => Int, {
    nullable: true,
    description: 'Minor units; null beyond the 32-bit range of Int (read totalCreditsMinor).',
  })
  totalCredits?: number | null;
  @Field(() => MinorUnitsScalar, { nullable: true, description: 'Minor units, exact.' })
  totalDebitsMinor?: number | null;
  @Field(() => MinorUnitsScalar, { nullable: true, description: 'Minor units, exact.' })
  totalCreditsMinor?: number | null;
  @Field(() => Int, { description: 'Runs started (> 1: interrupted and run again).' })
  attempts: number;
}
