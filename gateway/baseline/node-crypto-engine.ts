/**
 * The baseline engine (`npm start -- --baseline`, SCANPAY_ENGINE=baseline): the same gateway, but the
 * hot path runs with node:crypto inline on the main thread, one record at a time, no worker pool.
 * It exists so the end-to-end benchmark can compare the WASM pool against the obvious implementation.
 */
import type { Dvd1OpenInput, Dvd1Opened, Dvd1Record, Dvd1Result } from '../../core/types.ts';
import type { CryptoEngine } from '../pool/crypto-pool.ts';
import { dvd1, openPayload } from './node-crypto-dvd1.ts';

export class NodeCryptoEngine implements CryptoEngine {
  readonly queueDepth = 0;
  ready = true;

  async open(input: Dvd1OpenInput): Promise<Dvd1Opened> {
    return openPayload(input);
  }

  async dvd1(record: Dvd1Record): Promise<Dvd1Result> {
    return dvd1(record);
  }

  async close(): Promise<void> {
    this.ready = false;
  }
}
