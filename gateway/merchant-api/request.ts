/**
 * A merchant API request's parameters, checked once, here, against the route's schemas
 * (protocol/merchant-api-schemas.ts): the JSON body (application/json in UTF-8, at most MAX_JSON_DEPTH deep, one
 * object), the query string (each parameter once; integers given as decimal digits) and the Idempotency-Key. A
 * request that fails gets its typed 400 (415 for a body that is not JSON by its Content-Type) naming the
 * parameter and the rule, never its value. What passes is the value the handlers use, and a canonical text of it
 * for the request's fingerprint (the same parameters in any key order or spacing are the same request).
 * @example
 *   const body = parseBody(req, route.body);   // { ok: true, value, canonical } or { ok: false, answer }
 */
import type { TObject } from '@sinclair/typebox';
import { IDEMPOTENCY_KEY_PATTERN, MAX_JSON_DEPTH } from '../../protocol/merchant-api.ts';
import { checkFor } from '../../protocol/merchant-api-schemas.ts';
import type { HttpRequest, HttpResponse } from '../http/types.ts';
import { parseMediaType } from '../http/media-type.ts';
import { apiError } from './answers.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; answer: HttpResponse };

const IDEMPOTENCY_KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);
const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** A query integer: decimal digits, no sign, no leading zero, at most 16 (the schema bounds the value). */
const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

/** The parameters against their schema: the first rule broken, as INVALID_PARAMETER naming it. */
function checked<T>(value: object, schema: TObject): Parsed<T> {
  const check = checkFor(schema);
  if (check.Check(value)) return { ok: true, value: value as T };
  const first = check.Errors(value).First();
  const param = (first?.path.split('/')[1] ?? '').slice(0, 64); // an unknown parameter's name: bounded
  return { ok: false, answer: apiError('INVALID_PARAMETER', param || undefined, first ? `${param || 'the body'}: ${first.message}` : undefined) };
}

/** Whether `text` nests arrays or objects deeper than `max` (brackets inside strings do not count). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** application/json, without a charset or with charset=utf-8. */
function isJsonType(header: string): boolean {
  const media = parseMediaType(header);
  if (!media || media.essence !== 'application/json') return false;
  const charset = media.params.get('charset');
  return charset === undefined || charset.toLowerCase() === 'utf-8';
}

/** A POST's body: empty is `{}`; else one JSON object of the route's parameters. */
export function parseBody<T extends object>(req: HttpRequest, schema: TObject): Parsed<T> {
  if (req.body.length === 0) return checked<T>({}, schema);
  if (!isJsonType(req.contentType)) return { ok: false, answer: apiError('UNSUPPORTED_MEDIA_TYPE') };
  let value: unknown;
  try {
    const text = UTF8.decode(req.body);
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) return { ok: false, answer: apiError('INVALID_JSON') };
    value = JSON.parse(text);
  } catch {
    return { ok: false, answer: apiError('INVALID_JSON') }; // not UTF-8, or not JSON
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, answer: apiError('INVALID_JSON') };
  return checked<T>(value, schema);
}

/** The query string's parameters: each at most once; a parameter the schema types as an integer, from its digits. */
export function parseQuery<T extends object>(query: URLSearchParams, schema: TObject): Parsed<T> {
  const params: Record<string, unknown> = {};
  for (const [name, raw] of query) {
    if (Object.hasOwn(params, name)) {
      const param = name.slice(0, 64);
      return { ok: false, answer: apiError('INVALID_PARAMETER', param, `${param}: given more than once`) };
    }
    const integer = (schema.properties[name] as { type?: string } | undefined)?.type === 'integer';
    params[name] = integer && DECIMAL.test(raw) ? Number(raw) : raw;
  }
  return checked<T>(params, schema);
}

/** The Idempotency-Key: null when there is none. */
export function parseIdempotencyKey(header: string): Parsed<string | null> {
  if (header === '') return { ok: true, value: null };
  if (IDEMPOTENCY_KEY.test(header)) return { ok: true, value: header };
  return { ok: false, answer: apiError('INVALID_PARAMETER', 'Idempotency-Key', 'Idempotency-Key: 1 to 255 printable ASCII characters, no space at either end') };
}

/** The parameters as one text, keys sorted (they are one flat object): what the request's fingerprint hashes. */
export function canonical(params: object): string {
  return JSON.stringify(params, Object.keys(params).sort());
}
