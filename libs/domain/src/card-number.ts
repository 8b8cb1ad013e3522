// Raw card numbers never enter the system (keeps us out of PCI-DSS scope). A string holding a
// Luhn-valid card number is refused: 13–19 contiguous digits, or the printed groupings
// (4-4-4-4[-3] and 4-6-4/5, separated by one space or dash), standing alone between
// non-alphanumeric characters. Requiring a standalone run keeps identifiers such as UUIDs,
// hex ids and long order numbers from being read as cards.
const EDGE_BEFORE = '(?<![0-9A-Za-z-])';
const EDGE_AFTER = '(?![0-9A-Za-z]|-[0-9A-Za-z])';
const CARD_SHAPES = new RegExp(
  [
    String.raw`\d{13,19}`,
    String.raw`\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?`,
    String.raw`\d{4}([ -])\d{6}\2\d{4,5}`,
  ]
    .map((shape) => `${EDGE_BEFORE}(?:${shape})${EDGE_AFTER}`)
    .join('|'),
  'g',
);

export function isLuhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function containsCardNumber(text: string): boolean {
  for (const match of text.matchAll(CARD_SHAPES)) {
    if (isLuhnValid(match[0].replace(/[ -]/g, ''))) return true;
  }
  return false;
}

/** Path of the first field (e.g. `metadata.note`) that holds a card number, or null. */
export function findCardNumber(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return containsCardNumber(value) ? path : null;
  if (typeof value === 'number') return containsCardNumber(String(value)) ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findCardNumber(value[i], `${path}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (containsCardNumber(key)) return childPath;
      const found = findCardNumber(child, childPath);
      if (found !== null) return found;
    }
  }
  return null;
}
