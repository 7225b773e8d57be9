/**
 * The baseline engine (`npm run bench:serve -- baseline`, bench/serve/): the same gateway, but the hot path
 * runs with node:crypto inline on the main thread, one record at a time, no worker pool. So this thread
 * holds the key ring (it reloads it like a worker does). It exists so the end-to-end benchmark can compare
 * the WASM pool against the obvious implementation; it is not part of the package (GatewayOptions.engine
 * takes it).
 */
import type { CryptoCore } from '../../core/types.ts';
import { CardCrypto, type Dvd1Functions } from '../../issuer/card-crypto.ts';
import type {
  CardEngine, CardOpening, CodeCheck, CodeChecked, EnrolmentCheck, EnrolmentChecked, PinCheck, PinChecked,
} from '../../issuer/card-engine.ts';
import type { KeyRingSource } from '../../issuer/key-ring-source.ts';
import { signReceiptChain, type ReceiptChainRequest, type SignedReceipt } from '../../issuer/receipt-signing.ts';
import { dvd1BatchPacked, dvd1CodeBatchPacked, dvd1EnrolBatchPacked, dvd1OpenBatchPacked } from './node-crypto-dvd1.ts';

/** The node:crypto DVD-1, one record at a time, over the packed records CardCrypto hands the core. */
export const NODE_DVD1: Dvd1Functions = { dvd1OpenBatchPacked, dvd1BatchPacked, dvd1CodeBatchPacked, dvd1EnrolBatchPacked };

export class NodeCryptoEngine implements CardEngine {
  readonly queueDepth = 0;
  ready = true;
  readonly #keys: KeyRingSource;
  readonly #crypto: CardCrypto;

  /** `core` only unwraps the stored basic key (as the pool's workers do); the DVD-1 records run on node:crypto. */
  constructor(core: CryptoCore, keys: KeyRingSource) {
    this.#keys = keys;
    this.#crypto = new CardCrypto(core, keys.read(), NODE_DVD1);
  }

  async openCard(payload: Uint8Array): Promise<CardOpening> {
    return this.#crypto.openCards([payload])[0];
  }

  async checkPin(check: PinCheck): Promise<PinChecked> {
    return this.#crypto.checkPins([check])[0];
  }

  async checkEnrolment(check: EnrolmentCheck): Promise<EnrolmentChecked> {
    return this.#crypto.checkEnrolments([check])[0];
  }

  async checkCode(check: CodeCheck): Promise<CodeChecked> {
    return this.#crypto.checkCodes([check])[0];
  }

  async signReceipts(request: ReceiptChainRequest): Promise<SignedReceipt[]> {
    return signReceiptChain(this.#crypto.keyRing, request);
  }

  async reloadKeys(): Promise<void> {
    this.#crypto.keyRing = this.#keys.reload();
  }

  async close(): Promise<void> {
    this.ready = false;
  }
}
