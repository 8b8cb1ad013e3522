import { ProcessorPaymentResult, ProcessorPaymentStatus } from '../../../libs/contracts/src';
import { SimulatorPayment } from './simulator-store';

export const SIMULATOR_PAYMENT_STATUSES = [
  'requires_action',
  'authorized',
  'succeeded',
  'canceled',
] as const;
export type SimulatorPaymentStatus = (typeof SIMULATOR_PAYMENT_STATUSES)[number];

// Total on purpose: a new simulator status fails to compile until it is mapped.
export const SIMULATOR_STATUS_MAP: Readonly<
  Record<SimulatorPaymentStatus, ProcessorPaymentStatus>
> = {
  requires_action: 'requires_action',
  authorized: 'authorized',
  succeeded: 'succeeded',
  canceled: 'canceled',
};

export function parseSimulatorStatus(value: string): SimulatorPaymentStatus {
  const status = SIMULATOR_PAYMENT_STATUSES.find((known) => known === value);
  if (!status) throw new Error(`unknown simulator payment status "${value}"`);
  return status;
}

/** The neutral view of a processor-side payment. */
export function toPaymentResult(payment: SimulatorPayment): ProcessorPaymentResult {
  const holdsFunds = payment.status === 'authorized' || payment.status === 'succeeded';
  return {
    status: SIMULATOR_STATUS_MAP[payment.status],
    processorReference: payment.reference,
    amountAuthorized: holdsFunds ? payment.amount : 0,
    amountCaptured: payment.amountCaptured,
    ...(payment.status === 'requires_action'
      ? { nextAction: nextActionFor(payment.reference) }
      : {}),
  };
}

function nextActionFor(reference: string) {
  return {
    type: 'redirect_to_url',
    redirectUrl: `https://simulator.invalid/3ds/${reference}`,
    clientSecret: `${reference}_secret`,
  };
}
