import {
  ProcessorError,
  ProcessorPaymentResult,
  ProcessorRefundResult,
} from '../../../libs/contracts/src';
import { SavedError, SavedResponse } from './simulator-store';

export function toProcessorError(saved: SavedError): ProcessorError {
  const { kind, message, ...details } = saved;
  return new ProcessorError(kind, message, details);
}

/** The payment result a response carries, or its saved error thrown again. */
export function paymentResultOf(response: SavedResponse): ProcessorPaymentResult {
  if (response.type === 'error') throw toProcessorError(response.error);
  if (response.type !== 'payment')
    throw new Error(`expected a payment response, got ${response.type}`);
  return response.result;
}

/** The refund result a response carries, or its saved error thrown again. */
export function refundResultOf(response: SavedResponse): ProcessorRefundResult {
  if (response.type === 'error') throw toProcessorError(response.error);
  if (response.type !== 'refund')
    throw new Error(`expected a refund response, got ${response.type}`);
  return response.result;
}

export function invalidRequest(message: string, processorCode?: string): ProcessorError {
  return new ProcessorError('invalid_request', message, { processorCode });
}
