/**
 * Minor units → decimal strings with integer/string arithmetic only (never floats): the ledger
 * stores bigint minor units, Postgres returns them as strings, and a float would turn 0.1 + 0.2
 * into 0.30000000000000004 or lose cents beyond 2^53.
 */
export function formatMinorUnits(amount: bigint | string | number, exponent: number): string {
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > 18) {
    throw new Error(`bad currency exponent ${exponent}`);
  }
  if (typeof amount === 'number' && !Number.isSafeInteger(amount)) {
    throw new Error(`amount ${amount} is not a safe integer of minor units`);
  }
  const text = typeof amount === 'bigint' ? amount.toString() : String(amount).trim();
  if (!/^-?\d+$/.test(text)) throw new Error(`amount ${text} is not an integer of minor units`);
  const negative = text.startsWith('-');
  const digits = (negative ? text.slice(1) : text).replace(/^0+(?=\d)/, '');
  if (exponent === 0) return `${negative && digits !== '0' ? '-' : ''}${digits}`;
  const padded = digits.padStart(exponent + 1, '0');
  const major = padded.slice(0, padded.length - exponent);
  const minor = padded.slice(padded.length - exponent);
  const zero = /^0+$/.test(padded);
  return `${negative && !zero ? '-' : ''}${major}.${minor}`;
}

/** Parses a decimal string back to minor units (tests, and anyone re-reading an export). */
export function parseDecimal(text: string, exponent: number): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a decimal amount`);
  const fraction = match[3] ?? '';
  if (fraction.length !== exponent) {
    throw new Error(`"${text}" has ${fraction.length} decimals; the currency has ${exponent}`);
  }
  const value = BigInt(`${match[2]}${fraction}`);
  return match[1] ? -value : value;
}
