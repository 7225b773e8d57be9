/**
 * PIN checks (issuer/card-engine.ts PinCheck) for real cards: what the gateway sends its crypto engine at
 * S25. Each card is sealed under a fresh key ring's active key, its basic key wrapped and its PVV computed
 * as the issuer does, so every check passes DVD-1. For the pool benchmark and tests of the engines.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { CryptoCore } from '../../core/types.ts';
import type { PinCheck } from '../../issuer/card-engine.ts';
import { pinVerificationValue, wrapBasicKey } from '../../issuer/card-secrets.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { drawPan } from '../../issuer/pan.ts';
import { sealPayload } from '../../issuer/payload.ts';
import { newSessionId } from '../../issuer/session-id.ts';

export function makePinChecks(core: CryptoCore, count: number, keyRing = IssuerKeyRing.generate()): { keyRing: IssuerKeyRing; checks: PinCheck[] } {
  const { id, key } = keyRing.active();
  const checks = Array.from({ length: count }, (): PinCheck => {
    const pan = drawPan('400000');
    const pin = String(randomInt(10_000)).padStart(4, '0');
    const basicKey = new Uint8Array(randomBytes(32));
    const card = keyRing.cardToken(pan);
    const check: PinCheck = {
      payload: sealPayload(core, key, id, 1, pan, basicKey), card,
      wrappedBasicKey: wrapBasicKey(core, keyRing.storageKey, card, basicKey),
      pvv: pinVerificationValue(core, basicKey, pan, pin),
      pin, sessionId: newSessionId(card), merchant: 'bench-shop', amount: randomInt(1, 1_000_000),
    };
    basicKey.fill(0);
    return check;
  });
  return { keyRing, checks };
}
