/**
 * Where each record lives in Redis, and each channel. The card, the session and the ledger record of one
 * payment share the hash tag `{shard}` (issuer/session-id.ts: a session id starts with its card's shard), so each
 * atomic step (a Lua script over those keys) runs on one Redis Cluster slot; so do a payment's entries, refunds and
 * operations after it. Device keys share a `{dev:id}` tag, a merchant's keys an `{m:id}` tag;
 * a wallet enrolment is on its card's shard too (its id → card index under a `{w:id}` tag of its own);
 * a scanner's push channel is tagged with its id (sharded pub/sub sends it to that slot's shard alone). The
 * revocations channel has a fixed tag of its own: on a cluster every revocation goes to one shard (SPUBLISH).
 */
import { shardOf } from '../session-id.ts';

/** Which wrong-PIN budget (types.ts PinBudget) a count belongs to. */
export type PinBudgetScope = 'device' | 'merchant';

const PIN_BUDGET = 'pin-budget:';

/** A wrong-PIN budget's name: its key in the embedded store, and (prefixed) in Redis. */
export function pinBudgetKey(scope: PinBudgetScope, id: string): string {
  return `${PIN_BUDGET}${scope}:${id}`;
}

export interface KeyLayout {
  card(token: string): string;
  /** A card key without its token: the PIN scripts append the token they read from the session. */
  cardKeyPrefix(sessionId: string): string;
  cardCount: string;
  session(id: string): string;
  /** A session's card payload, kept while the session can take a PIN. */
  sessionPayload(id: string): string;
  /** A payment (its id is its session's): the authorization's record and the payment's state (redis-payment-scripts.ts). */
  payment(id: string): string;
  /** A payment's ledger entries, in order. */
  entries(paymentId: string): string;
  /** A payment's events, in order (event-types.ts). */
  events(paymentId: string): string;
  /** A refund (its id carries its payment's shard: payment.ts refundIdOf). */
  refund(refundId: string): string;
  /** An operation's answer, for its opId (on its payment's shard). */
  operation(opId: string): string;
  /** The holds to expire: manual-capture payments by when their hold ends. */
  holds: string;
  merchant(id: string): string;
  /** A merchant's payments and refunds, by when they were made. */
  merchantPayments(merchant: string): string;
  merchantRefunds(merchant: string): string;
  /** A merchant's outbox: its payments that may have events its journal has not sealed, by mark (event-types.ts). */
  outbox(merchant: string): string;
  /** Every merchant that has had an event. */
  eventMerchants: string;
  /** Merchants whose journal has grown since a receipt round last took them up (event-types.ts receiptsDue). */
  receiptsDue: string;
  /** A merchant's journal (a list of records), its index by event id, its sealed count per payment, its periods, and its sealer lease. */
  journal(merchant: string): string;
  journalIndex(merchant: string): string;
  sealed(merchant: string): string;
  periods(merchant: string): string;
  sealerLease(merchant: string): string;
  /** A merchant's receipt chain (a list of receipts), each payment's receipt seqs, the chain's journal cursor, and its signer lease. */
  receipts(merchant: string): string;
  receiptsByPayment(merchant: string): string;
  receiptHead(merchant: string): string;
  receiptSigner(merchant: string): string;
  /**
   * A merchant's webhook endpoints (a hash: id → JSON, secrets sealed), each endpoint's journal cursor, the due
   * deliveries (a sorted set of `endpoint|event` by when due, or until when leased), each delivery's attempts
   * and claim, and its delivered and given-up counts (webhook-types.ts).
   */
  webhooks(merchant: string): string;
  webhookCursors(merchant: string): string;
  webhookDue(merchant: string): string;
  webhookClaims(merchant: string): string;
  webhookCounts(merchant: string): string;
  /** Every merchant that has had a webhook endpoint. */
  webhookMerchants: string;
  /** A merchant's Idempotency-Key claims, by the key's hash. */
  idempotency(merchant: string, keyHash: string): string;
  /** A merchant's API key ids. */
  merchantKeys(merchant: string): string;
  /** An API key, by its public id. */
  apiKey(keyId: string): string;
  /** Every merchant id. */
  merchantIndex: string;
  device(deviceId: string): string;
  deviceIndex: string;
  deviceRecent(deviceId: string): string;
  deviceNonce(deviceId: string, nonce: string): string;
  /** A set of every revoked device id: what the gateways load their revoked set from, and refresh it from. */
  revokedDevices: string;
  /** The pub/sub channel revokeDevice announces each revocation on (the message: the device id). */
  revocations: string;
  /** A scanner's push channel (gateway/push/push-bus.ts): device ids are [A-Za-z0-9_-], no brace to end the tag early. */
  push(deviceId: string): string;
  /** What every push channel starts with, for a subscriber telling its channels apart. */
  pushPrefix: string;
  rate(key: string): string;
  /** A wallet enrolment (wallet-types.ts), on its card's shard (by the card token, or any id on that shard). */
  enrolment(cardTokenOrShard: string, id: string): string;
  /** A card's enrolments (a sorted set of ids by creation) and its active ones (a set): on the card's slot. */
  cardEnrolments(cardToken: string): string;
  walletsActive(cardToken: string): string;
  /** Which card an enrolment is of (its id alone names no shard): written once, before the enrolment. */
  enrolmentCard(id: string): string;
  pinBudget(scope: PinBudgetScope, id: string): string;
  /** The wrong-PIN budgets' common prefix: the PIN scripts append `device:<id>` or `merchant:<id>`. */
  pinBudgetPrefix: string;
}

export function keyLayout(prefix: string): KeyLayout {
  return {
    card: (token) => `${prefix}{${shardOf(token)}}:card:${token}`,
    cardKeyPrefix: (sessionId) => `${prefix}{${shardOf(sessionId)}}:card:`,
    cardCount: `${prefix}cards`,
    session: (id) => `${prefix}{${shardOf(id)}}:session:${id}`,
    sessionPayload: (id) => `${prefix}{${shardOf(id)}}:payload:${id}`,
    payment: (id) => `${prefix}{${shardOf(id)}}:payment:${id}`,
    entries: (paymentId) => `${prefix}{${shardOf(paymentId)}}:entries:${paymentId}`,
    events: (paymentId) => `${prefix}{${shardOf(paymentId)}}:events:${paymentId}`,
    refund: (refundId) => `${prefix}{${shardOf(refundId.slice(3))}}:refund:${refundId}`,
    operation: (opId) => `${prefix}{${shardOf(opId)}}:op:${opId}`,
    holds: `${prefix}holds`,
    merchant: (id) => `${prefix}{m:${id}}:merchant`,
    merchantPayments: (merchant) => `${prefix}{m:${merchant}}:payments`,
    merchantRefunds: (merchant) => `${prefix}{m:${merchant}}:refunds`,
    outbox: (merchant) => `${prefix}{m:${merchant}}:outbox`,
    eventMerchants: `${prefix}event-merchants`,
    receiptsDue: `${prefix}receipts-due`,
    journal: (merchant) => `${prefix}{m:${merchant}}:journal`,
    journalIndex: (merchant) => `${prefix}{m:${merchant}}:journal-index`,
    sealed: (merchant) => `${prefix}{m:${merchant}}:sealed`,
    periods: (merchant) => `${prefix}{m:${merchant}}:periods`,
    sealerLease: (merchant) => `${prefix}{m:${merchant}}:sealer`,
    receipts: (merchant) => `${prefix}{m:${merchant}}:receipts`,
    receiptsByPayment: (merchant) => `${prefix}{m:${merchant}}:receipts-by-payment`,
    receiptHead: (merchant) => `${prefix}{m:${merchant}}:receipt-head`,
    receiptSigner: (merchant) => `${prefix}{m:${merchant}}:receipt-signer`,
    webhooks: (merchant) => `${prefix}{m:${merchant}}:webhooks`,
    webhookCursors: (merchant) => `${prefix}{m:${merchant}}:wh-cursors`,
    webhookDue: (merchant) => `${prefix}{m:${merchant}}:wh-due`,
    webhookClaims: (merchant) => `${prefix}{m:${merchant}}:wh-claims`,
    webhookCounts: (merchant) => `${prefix}{m:${merchant}}:wh-counts`,
    webhookMerchants: `${prefix}webhook-merchants`,
    idempotency: (merchant, keyHash) => `${prefix}{m:${merchant}}:idem:${keyHash}`,
    merchantKeys: (merchant) => `${prefix}{m:${merchant}}:keys`,
    apiKey: (keyId) => `${prefix}apikey:${keyId}`,
    merchantIndex: `${prefix}merchants`,
    device: (deviceId) => `${prefix}{dev:${deviceId}}:device`,
    deviceIndex: `${prefix}devices`,
    deviceRecent: (deviceId) => `${prefix}{dev:${deviceId}}:recent`,
    deviceNonce: (deviceId, nonce) => `${prefix}{dev:${deviceId}}:nonce:${nonce}`,
    revokedDevices: `${prefix}revoked-devices`,
    revocations: `${prefix}{revocations}`,
    push: (deviceId) => `${prefix}push:{${deviceId}}`,
    pushPrefix: `${prefix}push:{`,
    rate: (key) => `${prefix}rate:${key}`,
    enrolment: (cardTokenOrShard, id) => `${prefix}{${shardOf(cardTokenOrShard)}}:enrolment:${id}`,
    cardEnrolments: (cardToken) => `${prefix}{${shardOf(cardToken)}}:enrolments:${cardToken}`,
    walletsActive: (cardToken) => `${prefix}{${shardOf(cardToken)}}:wallets-active:${cardToken}`,
    enrolmentCard: (id) => `${prefix}{w:${id}}:enrolment-card`,
    pinBudget: (scope, id) => `${prefix}${pinBudgetKey(scope, id)}`,
    pinBudgetPrefix: `${prefix}${PIN_BUDGET}`,
  };
}
