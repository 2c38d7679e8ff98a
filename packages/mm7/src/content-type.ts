/** RFC 2045 Content-Type values: `type/subtype; name=value; name="quoted value"`, parameter names case-insensitive. */
export interface MimeType {
  /** Lower-cased `type/subtype`. */
  readonly type: string;
  /** Lower-cased parameter names; values as given (quotes removed, escapes resolved). */
  readonly params: Readonly<Record<string, string>>;
}

export function parseContentType(value: string | undefined): MimeType {
  if (value === undefined) return { type: 'text/plain', params: {} };
  const params: Record<string, string> = {};
  let i = value.indexOf(';');
  const type = (i < 0 ? value : value.slice(0, i)).trim().toLowerCase();
  while (i >= 0 && i < value.length) {
    i++;
    const eq = value.indexOf('=', i);
    if (eq < 0) break;
    const name = value.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    while (value[j] === ' ' || value[j] === '\t') j++;
    let v = '';
    if (value[j] === '"') {
      j++;
      while (j < value.length && value[j] !== '"') {
        if (value[j] === '\\' && j + 1 < value.length) j++;
        v += value[j];
        j++;
      }
      j++;
      const semi = value.indexOf(';', j);
      i = semi;
    } else {
      const semi = value.indexOf(';', j);
      v = (semi < 0 ? value.slice(j) : value.slice(j, semi)).trim();
      i = semi;
    }
    if (name.length > 0 && !(name in params)) params[name] = v;
  }
  return { type, params };
}

/** Content-ID / cid: references compared without angle brackets, quotes or case. */
export function normalizeCid(v: string): string {
  return v.trim().replace(/^cid:/i, '').replace(/^["<]+|[">]+$/g, '').toLowerCase();
}
