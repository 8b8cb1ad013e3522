import { inputFieldOf } from './error-formatter';

describe('inputFieldOf', () => {
  it.each([
    [
      'Variable "$input" got invalid value 10.5 at "input.amount"; Int cannot represent non-integer value: 10.5',
      'amount',
    ],
    [
      'Variable "$input" got invalid value "LATER" at "input.captureMethod"; Value "LATER" does not exist in "CaptureMethod" enum.',
      'captureMethod',
    ],
    [
      'Variable "$input" got invalid value { amount: 1 }; Field "idempotencyKey" of required type "String!" was not provided.',
      'idempotencyKey',
    ],
    [
      'Variable "$i" got invalid value { x: 1 } at "i.metadata"; Field "a" of required type "String!" was not provided.',
      'metadata.a',
    ],
    ['Field "CreatePaymentInput.amount" of required type "Int!" was not provided.', 'amount'],
  ])('finds the field in %s', (message, field) => {
    expect(inputFieldOf(message)).toBe(field);
  });

  it('returns undefined when no field is named', () => {
    expect(inputFieldOf('Syntax Error: Unexpected Name "x".')).toBeUndefined();
  });
});
