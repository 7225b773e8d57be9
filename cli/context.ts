/**
 * What a CLI command acts on: the key ring file, the store (Redis, or the embedded one with a warning)
 * and the crypto core. Opened once per command, closed when it ends.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadCore } from '../core/index.ts';
import { ScanpayError } from '../core/errors.ts';
import type { CryptoCore } from '../core/types.ts';
import { IssuerKeyRing } from '../issuer/key-ring.ts';
import { Issuer } from '../issuer/issuer.ts';
import { openStore } from '../issuer/store/index.ts';
import type { Store } from '../issuer/store/types.ts';

export const DEFAULT_KEYRING_FILE = 'scanpay-keyring.json';

export interface GlobalOptions {
  redis?: string;
  prefix?: string;
  keyring?: string;
}

/** The key ring file: --keyring, else SCANPAY_KEYRING_FILE, else ./scanpay-keyring.json. */
export function keyRingPath(opts: GlobalOptions): string {
  return resolve(opts.keyring ?? process.env.SCANPAY_KEYRING_FILE ?? DEFAULT_KEYRING_FILE);
}

export async function loadKeyRing(opts: GlobalOptions): Promise<IssuerKeyRing> {
  if (!opts.keyring && !process.env.SCANPAY_KEYRING_FILE && process.env.SCANPAY_KEYRING) return IssuerKeyRing.load();
  const file = keyRingPath(opts);
  if (!existsSync(file)) throw new ScanpayError('KEYRING_INVALID', `no key ring at ${file}: run \`scanpay keys generate\` first`);
  return IssuerKeyRing.load({ file });
}

/** What needs the persistent store, as the refusal names it. */
export const STORE_USERS = {
  cards: 'card commands need a persistent store for the cards',
  scanners: 'scanner commands need a persistent store for the device records',
  merchants: 'merchant commands need a persistent store for the merchants and their API keys',
  payments: 'payment and refund commands need the store the gateways keep the payments in',
  ledger: 'settlement and journal commands need a persistent store: the journals are the gateways\'',
  webhooks: 'webhook commands need a persistent store for the endpoints',
} as const;

/**
 * Card and scanner commands need a store other processes (the gateways) can see. The embedded store lives
 * inside one process, so a card issued or a device revoked in it would vanish when the command exits:
 * refuse rather than pretend.
 */
export async function openPersistentStore(opts: GlobalOptions, user: keyof typeof STORE_USERS): Promise<Store> {
  // --redis names one server and overrides the environment; else REDIS_URL or REDIS_CLUSTER_NODES
  const redisUrl = opts.redis ?? process.env.REDIS_URL;
  const clusterNodes = opts.redis ? undefined : process.env.REDIS_CLUSTER_NODES;
  if (!redisUrl && !clusterNodes) {
    throw new ScanpayError('BAD_ARGUMENT',
      `${STORE_USERS[user]}: pass --redis URL or set REDIS_URL or REDIS_CLUSTER_NODES (the embedded store is not persistent; \`npm start\` keeps its demo cards and scanner in its own)`);
  }
  // the same default prefix as the gateway's, so a card issued here is one the gateway finds
  return openStore({ redisUrl, clusterNodes, prefix: redisPrefix(opts) });
}

/** The Redis key prefix: --prefix, else SCANPAY_REDIS_PREFIX, else the store's default (undefined). */
export function redisPrefix(opts: GlobalOptions): string | undefined {
  return opts.prefix ?? (process.env.SCANPAY_REDIS_PREFIX || undefined);
}

export interface IssuerContext {
  core: CryptoCore;
  store: Store;
  keyRing: IssuerKeyRing;
  issuer: Issuer;
}

/** Runs `body` with the persistent store, and always closes it. */
export async function withStore<T>(opts: GlobalOptions, user: keyof typeof STORE_USERS, body: (store: Store) => Promise<T>): Promise<T> {
  const store = await openPersistentStore(opts, user);
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

/** Runs `body` with an issuer over the persistent store, and always closes the store. */
export async function withIssuer<T>(opts: GlobalOptions & { bin?: string }, body: (ctx: IssuerContext) => Promise<T>): Promise<T> {
  const keyRing = await loadKeyRing(opts);
  const core = await loadCore();
  const store = await openPersistentStore(opts, 'cards');
  try {
    return await body({ core, store, keyRing, issuer: new Issuer({ core, store, keyRing, bin: opts.bin }) });
  } finally {
    await store.close();
  }
}
