/**
 * Content-Type, parsed (RFC 9110 §8.3.1) rather than prefix-matched: type and subtype compared without
 * case, parameters split off, so `application/x-www-form-urlencodedEVIL` is not a form.
 */
export interface MediaType {
  essence: string; // "type/subtype", lower case
  params: Map<string, string>; // names lower case; quoted values unquoted
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function parseMediaType(header: string): MediaType | null {
  const [head, ...rest] = header.split(';');
  const [type, subtype, extra] = head.trim().split('/');
  if (extra !== undefined || !type || !subtype || !TOKEN.test(type) || !TOKEN.test(subtype)) return null;
  const params = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq < 0) return null;
    const name = part.slice(0, eq).trim().toLowerCase();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (!TOKEN.test(name)) return null;
    params.set(name, value);
  }
  return { essence: `${type}/${subtype}`.toLowerCase(), params };
}

/** A URL-encoded form in UTF-8 (the only charset the page sends). */
export function isUtf8Form(header: string): boolean {
  const media = parseMediaType(header);
  if (!media || media.essence !== 'application/x-www-form-urlencoded') return false;
  const charset = media.params.get('charset');
  return charset === undefined || charset.toLowerCase() === 'utf-8';
}
