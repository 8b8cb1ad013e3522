/** A parsed form body or query string: nested objects, arrays for `a[0]`, strings at the leaves. */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

/**
 * Parses what stripe-node sends (`application/x-www-form-urlencoded` with bracketed paths such as
 * `metadata[payment_id]=…`, `payment_method_types[0]=card`, `created[gte]=…`).
 */
export function parseForm(text: string): FormObject {
  const root: FormObject = {};
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const [rawKey, rawValue = ''] = splitOnce(pair, '=');
    const path = keyPath(decode(rawKey));
    if (path.length > 0) assign(root, path, decode(rawValue));
  }
  return arraysOf(root) as FormObject;
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at === -1 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

function decode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '));
}

function keyPath(key: string): string[] {
  const head = key.split('[', 1)[0];
  const rest = [...key.slice(head.length).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]);
  return [head, ...rest];
}

function assign(target: FormObject, path: string[], value: string): void {
  let node = target;
  path.slice(0, -1).forEach((part) => {
    const next = node[part];
    if (typeof next !== 'object' || Array.isArray(next)) node[part] = {};
    node = node[part] as FormObject;
  });
  node[path[path.length - 1]] = value;
}

// Objects whose keys are all indices become arrays (`payment_method_types[0]=card`).
function arraysOf(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted = Object.fromEntries(keys.map((k) => [k, arraysOf(value[k])]));
  const indexed = keys.length > 0 && keys.every((k) => /^\d+$/.test(k));
  if (!indexed) return converted;
  return keys.sort((a, b) => Number(a) - Number(b)).map((k) => converted[k]);
}

/** Canonical text of a form, independent of field order, for idempotency comparisons. */
export function canonicalForm(value: FormValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalForm).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalForm(value[k])}`).join(',')}}`;
}
