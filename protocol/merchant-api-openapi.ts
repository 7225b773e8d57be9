/**
 * The merchant API's OpenAPI 3.1 document, generated from the schemas the gateway validates with
 * (merchant-api-schemas.ts): the named schemas become components (each use of one a `$ref`), every route its
 * operation, every status a route can answer its response, with the error codes of that status. The committed
 * copy is docs/merchant-api.openapi.json; test/merchant-api/openapi.test.ts keeps it current, and
 *   npm run openapi
 * writes it again.
 */
import type { TSchema } from '@sinclair/typebox';
import { MERCHANT_API_ERRORS, IDEMPOTENCY_KEY_PATTERN, type MerchantApiCode } from './merchant-api.ts';
import { MERCHANT_API_ROUTES, MERCHANT_API_SCHEMAS, errorSchemaFor, routeErrors, type RouteSpec } from './merchant-api-schemas.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const REASON: Record<number, string> = {
  200: 'OK', 400: 'Bad request', 401: 'Unauthenticated', 404: 'Not found', 409: 'Conflict', 413: 'Body too large',
  415: 'Not JSON', 422: 'Amount too large', 429: 'Too many failed authentications', 500: 'Internal error', 503: 'Unavailable: retry',
};

/** A schema as JSON, each nested named schema (but `root` itself) replaced by its `$ref`. */
function toJson(schema: TSchema, root?: TSchema): Json {
  const names = new Map<unknown, string>(Object.entries(MERCHANT_API_SCHEMAS).map(([name, s]) => [s, name]));
  const walk = (node: unknown): Json => {
    const name = names.get(node);
    if (name !== undefined && node !== root) return { $ref: `#/components/schemas/${name}` };
    if (Array.isArray(node)) return node.map(walk);
    if (node !== null && typeof node === 'object') {
      // own string keys only: TypeBox's Kind and Optional markers are symbols
      return Object.fromEntries(Object.entries(node as Record<string, unknown>).map(([k, v]) => [k, walk(v)]));
    }
    return node as Json;
  };
  return walk(schema);
}

const json = (schema: Json) => ({ 'application/json': { schema } });

function operation(name: string, route: RouteSpec): Json {
  const parameters: Json[] = [];
  if (route.id) parameters.push({ name: 'id', in: 'path', required: true, description: route.id.description, schema: toJson(route.id.schema) });
  for (const [param, schema] of Object.entries(route.query.properties)) {
    parameters.push({ name: param, in: 'query', required: route.query.required?.includes(param) ?? false, schema: toJson(schema) });
  }
  if (route.method === 'post') parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
  const byStatus = new Map<number, MerchantApiCode[]>();
  for (const code of routeErrors(route)) {
    const { status } = MERCHANT_API_ERRORS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, Json> = { 200: { description: REASON[200]!, content: json(toJson(MERCHANT_API_SCHEMAS[route.ok as keyof typeof MERCHANT_API_SCHEMAS])) } };
  for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    responses[status] = {
      description: `${REASON[status] ?? 'Error'}: ${codes.join(', ')}`,
      ...(status === 401 ? { headers: { 'WWW-Authenticate': { schema: { type: 'string', const: 'Bearer' } } } } : {}),
      content: json(toJson(errorSchemaFor(codes))),
    };
  }
  return {
    operationId: name, summary: route.summary, description: route.description, parameters,
    ...(route.body ? { requestBody: { required: false, description: 'A JSON object; an empty body is `{}`.', content: json(toJson(route.body)) } } : {}),
    responses,
  };
}

/** The document, as docs/merchant-api.openapi.json holds it. */
export function merchantApiOpenApi(): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const [name, route] of Object.entries(MERCHANT_API_ROUTES) as [string, RouteSpec][]) {
    (paths[route.path] ??= {})[route.method] = operation(name, route);
  }
  const codes = Object.entries(MERCHANT_API_ERRORS).map(([code, { status, message }]) => `| \`${code}\` | ${status} | ${message} |`);
  return {
    openapi: '3.1.0',
    info: {
      title: 'scanpay merchant API',
      version: '1',
      description: 'A merchant reads its payments, captures, voids, reverses and refunds them (docs/merchant-api.md). JSON over '
        + 'HTTP(S) on the gateway\'s merchant listener; every path starts with /v1. Amounts are integers in minor units, times '
        + 'integers in milliseconds since the Unix epoch. Errors: {"error":{"code","message","param"?}}; a wrong method on a '
        + `route is 405 METHOD_NOT_ALLOWED (with Allow), an unknown route 404 NOT_FOUND.\n\n| code | status | message |\n| --- | --- | --- |\n${codes.join('\n')}`,
    },
    servers: [{ url: 'http://127.0.0.1:8081', description: '`npm start`\'s default (MERCHANT_HOST, MERCHANT_PORT); https with TLS_CERT_FILE' }],
    security: [{ apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer spk_<16 hex>_<43 base64url>, the merchant\'s API key' },
      },
      parameters: {
        IdempotencyKey: {
          name: 'Idempotency-Key', in: 'header', required: false,
          description: 'Optional: the same key with the same request gets the first answer again (status and body, an error too) '
            + 'for 24 h; with another request, 409 IDEMPOTENCY_KEY_REUSED. Without it a retry is a new operation.',
          schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN },
        },
      },
      schemas: Object.fromEntries(Object.entries(MERCHANT_API_SCHEMAS).map(([name, schema]) => [name, toJson(schema, schema)])),
    },
  };
}

/** The document's text as committed: 2-space JSON and a final newline. */
export function merchantApiOpenApiText(): string {
  return `${JSON.stringify(merchantApiOpenApi(), null, 2)}\n`;
}
