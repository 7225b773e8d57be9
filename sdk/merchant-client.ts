/**
 * A typed client of the merchant API v1 (docs/merchant-api.md), over fetch: one method per route, the wire's own
 * objects (protocol/merchant-api.ts) as results, every error answer thrown as a MerchantApiError. Every POST
 * carries an Idempotency-Key — the caller's, or a random one — and a request that got no answer, or a 503
 * (the gateway closing, the store unreachable), is sent again under the same key, so a retried refund is made
 * once. Nothing else is retried: a 4xx is the answer.
 * @example
 *   const merchant = new MerchantClient({ url: 'https://pay.example.com:8081', apiKey });
 *   const refund = await merchant.createRefund({ payment: id, amount: 500 }, { idempotencyKey: 'order-1042-refund' });
 */
import {
  isMerchantApiCode, type ApiErrorBody, type ApiLedgerEntry, type ApiList, type ApiPayment, type ApiRefund, type ApiReversal,
  type CaptureParams, type ListParams, type ListRefundsParams, type RefundParams, type ApiEvent, type ApiRedelivery, type ApiWebhookEndpoint,
  type ApiWebhookEndpointWithSecret, type ApiDeletedWebhookEndpoint, type ListEventsParams, type RotateSecretParams, type WebhookEndpointParams,
} from '../protocol/merchant-api.ts';
import { MerchantApiError } from './merchant-api-error.ts';

export interface MerchantClientOptions {
  /** The gateway's merchant listener, e.g. `https://pay.example.com:8081` (`npm start`: http://127.0.0.1:8081). */
  url: string;
  /** The merchant's API key, `spk_…`. */
  apiKey: string;
  /** How long one attempt may take (ms). Default 10 s. */
  timeoutMs?: number;
  /** Attempts after the first, for a request that got no answer or a 503. Default 2. */
  retries?: number;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

export interface MerchantRequestOptions {
  /** A POST's Idempotency-Key (1 to 255 printable ASCII characters); default: a random one per call. */
  idempotencyKey?: string;
  /** Aborts the request (and its retries). */
  signal?: AbortSignal;
}

/** The first pause before a retry (ms); it doubles each time, unless the answer said Retry-After. */
const RETRY_PAUSE_MS = 200;

export class MerchantClient {
  readonly #base: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #fetch: typeof fetch;

  constructor(opts: MerchantClientOptions) {
    this.#base = opts.url.replace(/\/+$/, '');
    this.#apiKey = opts.apiKey;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#retries = opts.retries ?? 2;
    this.#fetch = opts.fetch ?? globalThis.fetch;
  }

  getPayment(id: string, opts?: MerchantRequestOptions): Promise<ApiPayment> {
    return this.#send('GET', `/v1/payments/${segment(id)}`, undefined, opts);
  }

  /** A page of the merchant's payments, newest first. */
  listPayments(params: ListParams = {}, opts?: MerchantRequestOptions): Promise<ApiList<ApiPayment>> {
    return this.#send('GET', `/v1/payments${query(params)}`, undefined, opts);
  }

  /** Every ledger entry of a payment, in order. */
  listEntries(id: string, opts?: MerchantRequestOptions): Promise<ApiList<ApiLedgerEntry>> {
    return this.#send('GET', `/v1/payments/${segment(id)}/entries`, undefined, opts);
  }

  capturePayment(id: string, params: CaptureParams = {}, opts?: MerchantRequestOptions): Promise<ApiPayment> {
    return this.#send('POST', `/v1/payments/${segment(id)}/capture`, params, opts);
  }

  voidPayment(id: string, opts?: MerchantRequestOptions): Promise<ApiPayment> {
    return this.#send('POST', `/v1/payments/${segment(id)}/void`, {}, opts);
  }

  reversePayment(id: string, opts?: MerchantRequestOptions): Promise<ApiReversal> {
    return this.#send('POST', `/v1/payments/${segment(id)}/reverse`, {}, opts);
  }

  createRefund(params: RefundParams, opts?: MerchantRequestOptions): Promise<ApiRefund> {
    return this.#send('POST', '/v1/refunds', params, opts);
  }

  getRefund(id: string, opts?: MerchantRequestOptions): Promise<ApiRefund> {
    return this.#send('GET', `/v1/refunds/${segment(id)}`, undefined, opts);
  }

  /** A page of the merchant's refunds, newest first; with `payment` (alone), all of that payment's, oldest first. */
  listRefunds(params: ListRefundsParams = {}, opts?: MerchantRequestOptions): Promise<ApiList<ApiRefund>> {
    return this.#send('GET', `/v1/refunds${query(params)}`, undefined, opts);
  }

  /** A page of the merchant's events, newest first (docs/webhooks.md). */
  listEvents(params: ListEventsParams = {}, opts?: MerchantRequestOptions): Promise<ApiList<ApiEvent>> {
    return this.#send('GET', `/v1/events${query(params)}`, undefined, opts);
  }

  /** An event: exactly the body its webhook deliveries carry. */
  getEvent(id: string, opts?: MerchantRequestOptions): Promise<ApiEvent> {
    return this.#send('GET', `/v1/events/${segment(id)}`, undefined, opts);
  }

  /** Queues the event again for every webhook endpoint. */
  redeliverEvent(id: string, opts?: MerchantRequestOptions): Promise<ApiRedelivery> {
    return this.#send('POST', `/v1/events/${segment(id)}/redeliver`, {}, opts);
  }

  /**
   * A new webhook endpoint, with its signing secret (shown this once). Not retried: the gateway does not replay
   * it by Idempotency-Key (it would have to keep the secret), so a retry could make a second endpoint.
   */
  createWebhookEndpoint(params: WebhookEndpointParams, opts?: MerchantRequestOptions): Promise<ApiWebhookEndpointWithSecret> {
    return this.#send('POST', '/v1/webhook_endpoints', params, opts, 0);
  }

  listWebhookEndpoints(opts?: MerchantRequestOptions): Promise<ApiList<ApiWebhookEndpoint>> {
    return this.#send('GET', '/v1/webhook_endpoints', undefined, opts);
  }

  deleteWebhookEndpoint(id: string, opts?: MerchantRequestOptions): Promise<ApiDeletedWebhookEndpoint> {
    return this.#send('DELETE', `/v1/webhook_endpoints/${segment(id)}`, undefined, opts);
  }

  /** A new signing secret (shown this once); the previous one signs too for the grace (default 24 h). Not retried, as creation. */
  rotateWebhookSecret(id: string, params: RotateSecretParams = {}, opts?: MerchantRequestOptions): Promise<ApiWebhookEndpointWithSecret> {
    return this.#send('POST', `/v1/webhook_endpoints/${segment(id)}/rotate_secret`, params, opts, 0);
  }

  async #send<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body: object | undefined, opts: MerchantRequestOptions = {}, retries = this.#retries): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#apiKey}`, accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['idempotency-key'] = opts.idempotencyKey ?? globalThis.crypto.randomUUID();
    }
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(this.#timeoutMs)]) : AbortSignal.timeout(this.#timeoutMs);
        res = await this.#fetch(`${this.#base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
      } catch (e) {
        if (opts.signal?.aborted || attempt >= retries) {
          throw new MerchantApiError('NETWORK', `${method} ${path}: no answer (${(e as Error).message})`, null);
        }
        await pause(RETRY_PAUSE_MS * 2 ** attempt, opts.signal);
        continue;
      }
      const text = await res.text();
      if (res.status === 503 && attempt < retries && !opts.signal?.aborted) {
        const after = Number(res.headers.get('retry-after'));
        await pause(after > 0 ? Math.min(after, 10) * 1000 : RETRY_PAUSE_MS * 2 ** attempt, opts.signal);
        continue;
      }
      return answerOf<T>(method, path, res, text);
    }
  }
}

/** The answer's JSON on a 200; otherwise its error, thrown. */
function answerOf<T>(method: string, path: string, res: Response, text: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new MerchantApiError('BAD_RESPONSE', `${method} ${path}: HTTP ${res.status} without a JSON body`, res.status);
  }
  if (res.status === 200 && typeof json === 'object' && json !== null) return json as T;
  const error = (json as Partial<ApiErrorBody> | null)?.error;
  if (!error || !isMerchantApiCode(error.code)) throw new MerchantApiError('BAD_RESPONSE', `${method} ${path}: HTTP ${res.status} without the API's error`, res.status);
  throw new MerchantApiError(error.code, error.message, res.status, error.param, res.headers.get('idempotent-replayed') === 'true');
}

/** An id as one path segment, whatever it holds. */
const segment = (id: string) => encodeURIComponent(id);

/** `?name=value&…` of the parameters that are set ('' when none). */
function query(params: object): string {
  const set = Object.entries(params).filter(([, value]) => value !== undefined).map(([name, value]) => [name, String(value)]);
  return set.length === 0 ? '' : `?${new URLSearchParams(set)}`;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
