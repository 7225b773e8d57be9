/**
 * For merchant API tests and the merchant API fuzz target (no vitest here: failures throw): merchants with API keys (made through the store, as an operator would),
 * payments authorized through the store's own steps, and a client whose every answer is checked against the
 * committed OpenAPI document (docs/merchant-api.openapi.json): the route and status are declared there, the
 * body is JSON of the declared schema (the TypeBox schema the document was generated from, or, for an error,
 * the declared shape with one of the codes listed for that route and status), and no registered secret is in it.
 * test/merchant-api/*.test.ts and test/fuzz/targets/merchant-api.ts use it.
 * @example
 *   const key = await createMerchant(store, fleetKey, 'shop-a');
 *   const { id } = await paidPayment(store, 'shop-a', 1_000);
 *   const answer = await new MerchantApi(gateway.merchantUrl, key).post(`/v1/payments/${id}/void`);
 */
import { readFileSync } from 'node:fs';
import { apiKeyHashKey, newApiKey } from '../../issuer/merchant-keys.ts';
import { DEFAULT_HOLD_WINDOW_MS } from '../../issuer/payment.ts';
import type { CardRecord, MerchantRecord, PaymentRequest, Store } from '../../issuer/store/index.ts';
import { MERCHANT_API_SCHEMAS, checkFor, type SchemaName } from '../../protocol/merchant-api-schemas.ts';
import { inspectOutput, registerSecret } from './secret-sink.ts';
import { claimFor, makeCard, makePayment, makeSession, newAttempt } from './store-fixtures.ts';

const OPENAPI_FILE = new URL('../../docs/merchant-api.openapi.json', import.meta.url);

interface OpenApiDoc {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }>>;
}
let doc: OpenApiDoc | undefined;
const openApi = () => (doc ??= JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDoc);

/** A new merchant and its first API key (shown once, as the CLI would); the key is registered as a secret. */
export async function createMerchant(store: Store, fleetKey: Uint8Array, id: string, fields: Partial<MerchantRecord> = {}): Promise<string> {
  const hashKey = apiKeyHashKey(fleetKey);
  const made = newApiKey(hashKey, id, Date.now());
  hashKey.fill(0);
  const record: MerchantRecord = { id, name: id, captureMethod: 'automatic', holdWindowMs: DEFAULT_HOLD_WINDOW_MS, createdAt: Date.now(), ...fields };
  if (!(await store.merchants.createMerchant(record, made.record))) throw new Error(`merchant ${id} exists`);
  registerSecret(`API key of ${id}`, made.key);
  return made.key;
}

/** A new key for the merchant; its other keys end at `othersExpireAt`. */
export async function rotateKey(store: Store, fleetKey: Uint8Array, merchant: string, othersExpireAt: number): Promise<string> {
  const hashKey = apiKeyHashKey(fleetKey);
  const made = newApiKey(hashKey, merchant, Date.now());
  hashKey.fill(0);
  if (!(await store.merchants.rotateApiKey(made.record, othersExpireAt))) throw new Error(`no merchant ${merchant}`);
  registerSecret(`API key of ${merchant} (rotated)`, made.key);
  return made.key;
}

/** A card in the store, with its opening balance. */
export async function storedCard(store: Store, fields: Partial<CardRecord> = {}): Promise<CardRecord> {
  const card = makeCard({ balance: 100_000, limit: 1_000_000, ...fields });
  await store.insertCard(card);
  return card;
}

/** A payment of `merchant` authorized on `card` through the store's steps (session, PIN attempt, authorization); its id. */
export async function paidPayment(store: Store, merchant: string, amount: number, card?: CardRecord, fields: Partial<PaymentRequest> = {}): Promise<{ id: string; card: CardRecord }> {
  const on = card ?? await storedCard(store);
  const session = makeSession(on, { amount, merchant });
  await store.openSession(session, claimFor(on));
  const attempt = newAttempt();
  const begun = await store.beginPinAttempt(session.id, session.deviceId, attempt, Date.now(), { lockAt: 3, paceMs: 0 });
  if (begun.kind !== 'evaluate') throw new Error(`the PIN attempt was not evaluated: ${begun.kind}`);
  await store.authorizePayment(makePayment(on, { sessionId: session.id, amount, merchant, attempt, ...fields }));
  return { id: session.id, card: on };
}

/** The card's balance equals its opening balance plus every entry's change over `paymentIds` (all the payments made on it). */
export async function expectReconciled(store: Store, card: CardRecord, paymentIds: string[]): Promise<void> {
  let changes = 0;
  for (const id of paymentIds) changes += (await store.payments.entries(id)).reduce((n, e) => n + e.balanceChange, 0);
  const balance = (await store.getCard(card.token))!.balance;
  if (balance !== card.balance + changes) throw new Error(`card balance ${balance}, but ${card.balance} opening + ${changes} in entries`);
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- each test reads the fields it asserts
}

/** The OpenAPI path template a concrete path matches (`/v1/payments/{id}`), or null. */
function templateOf(path: string): string | null {
  for (const template of Object.keys(openApi().paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (pattern.test(path)) return template;
  }
  return null;
}

/** The codes a documented error schema allows (`error.code`: anyOf of consts). */
function documentedCodes(schema: Record<string, unknown>): string[] {
  const code = (schema as { properties: { error: { properties: { code: { anyOf?: { const: string }[]; const?: string } } } } }).properties.error.properties.code;
  return code.anyOf ? code.anyOf.map((c) => c.const) : [code.const!];
}

/**
 * Checks one real answer against the document: declared for its route and status, of the declared schema. An
 * unknown route (404 NOT_FOUND) and a route's undeclared method (405 METHOD_NOT_ALLOWED) are the generic Error.
 */
export function expectDocumented(method: string, path: string, answer: Answer): void {
  const problem = undocumented(method, path, answer);
  if (problem) throw new Error(`${method} ${path} → ${answer.status} ${answer.text.slice(0, 200)}: ${problem}`);
}

/** Why the answer is not what the document declares, or null. */
function undocumented(method: string, path: string, answer: Answer): string | null {
  if (answer.headers.get('content-type') !== 'application/json') return `content-type ${answer.headers.get('content-type')}`;
  const isError = (code?: string) => {
    if (!checkFor(MERCHANT_API_SCHEMAS.Error).Check(answer.json)) return 'not the error shape';
    return code === undefined || answer.json.error.code === code ? null : `not ${code}`;
  };
  const template = templateOf(new URL(path, 'http://x').pathname);
  if (template === null) return isError('NOT_FOUND');
  const operation = openApi().paths[template]![method.toLowerCase()];
  if (!operation) return isError('METHOD_NOT_ALLOWED');
  const response = operation.responses[String(answer.status)];
  if (!response) return `status not declared for ${method} ${template}`;
  const schema = response.content!['application/json']!.schema;
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '') as SchemaName;
    const check = checkFor(MERCHANT_API_SCHEMAS[name]);
    return check.Check(answer.json) ? null : `not a ${name}: ${JSON.stringify(check.Errors(answer.json).First())}`;
  }
  return isError() ?? (documentedCodes(schema).includes(answer.json.error.code) ? null : 'code not declared for this status');
}

export interface RequestOptions {
  /** An object is sent as JSON; a string or bytes as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  idempotencyKey?: string;
  /** Another key for this request only (null: no Authorization header). */
  apiKey?: string | null;
}

/** A merchant API client with no SDK in between: raw requests, every answer checked (expectDocumented). */
export class MerchantApi {
  constructor(readonly baseUrl: string, readonly apiKey: string | null) {}

  as(apiKey: string | null): MerchantApi {
    return new MerchantApi(this.baseUrl, apiKey);
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<Answer> {
    const key = opts.apiKey === undefined ? this.apiKey : opts.apiKey;
    const headers: Record<string, string> = {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(opts.idempotencyKey === undefined ? {} : { 'idempotency-key': opts.idempotencyKey }),
      ...opts.headers,
    };
    let body: string | Uint8Array<ArrayBuffer> | undefined;
    if (typeof opts.body === 'string') body = opts.body;
    else if (opts.body instanceof Uint8Array) body = new Uint8Array(opts.body);
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    inspectOutput('merchant API answer', text);
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // left null: expectDocumented says what it should have been
    }
    const answer = { status: res.status, headers: res.headers, text, json };
    expectDocumented(method, path, answer);
    return answer;
  }

  get(path: string, opts?: RequestOptions): Promise<Answer> {
    return this.request('GET', path, opts);
  }

  post(path: string, body?: unknown, opts: RequestOptions = {}): Promise<Answer> {
    return this.request('POST', path, { ...opts, body });
  }
}
