/**
 * Webhook signing secrets (docs/webhooks.md §Secrets): made here (`whsec_` ‖ 43 base64url, 32 bytes from the
 * CSPRNG), shown to the merchant once, and kept in the store only sealed with AES-256-GCM under
 *   key = HKDF-SHA256(ikm = fleetKey, salt = "", info = "scanpay/v1/webhook-secrets", 32 bytes)
 * with the merchant and endpoint as associated data (a sealed secret moved to another endpoint does not open).
 * Every gateway and the operator's CLI derive the same key from the fleet key; a copy of the store alone is no
 * secret. The gateway needs the secrets in clear to sign (HMAC), so it opens them per delivery and drops them.
 * @example
 *   const box = WebhookSecretBox.fromFleetKey(fleetKey);
 *   const secret = newSigningSecret();                       // to the merchant, once
 *   const sealed = box.seal('acme', endpointId, secret);    // to the store
 *   box.open('acme', endpointId, sealed) === secret;
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { ScanpayError } from '../../core/errors.ts';
import { WEBHOOK_SECRET_PATTERN } from '../../protocol/webhook-signature.ts';

const INFO = 'scanpay/v1/webhook-secrets';
const NONCE = 12;
const TAG = 16;
const SECRET = new RegExp(WEBHOOK_SECRET_PATTERN);

/** A new signing secret: `whsec_` and 32 random bytes, base64url. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

const aad = (merchant: string, endpointId: string) => Buffer.from(`${INFO}\n${merchant}\n${endpointId}`);

export class WebhookSecretBox {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  static fromFleetKey(fleetKey: Uint8Array): WebhookSecretBox {
    return new WebhookSecretBox(Buffer.from(hkdfSync('sha256', fleetKey, new Uint8Array(0), INFO, 32)));
  }

  seal(merchant: string, endpointId: string, secret: string): string {
    if (!SECRET.test(secret)) throw new ScanpayError('BAD_ARGUMENT', 'a webhook secret is whsec_ and 43 base64url characters');
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce).setAAD(aad(merchant, endpointId));
    return Buffer.concat([nonce, cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64url');
  }

  /** The secret, or FLEET_KEY_INVALID when it does not open (another fleet key, another endpoint, or tampered). */
  open(merchant: string, endpointId: string, sealed: string): string {
    const bytes = Buffer.from(sealed, 'base64url');
    try {
      if (bytes.length < NONCE + TAG + 1) throw new Error('short');
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, NONCE)).setAAD(aad(merchant, endpointId));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG));
      return Buffer.concat([decipher.update(bytes.subarray(NONCE, bytes.length - TAG)), decipher.final()]).toString('utf8');
    } catch {
      throw new ScanpayError('FLEET_KEY_INVALID', 'a webhook secret does not open under this fleet key (another fleet key, or it was altered)');
    }
  }

  /** Wipes the key: the box opens nothing after. */
  close(): void {
    this.#key.fill(0);
  }
}
