/**
 * The card verifier: the one set of rules by which a card payload and its card row are judged, for the scan
 * (S22) and again for the PIN (S25), in batches or one at a time. Decrypt → verify (BRIEF §2):
 *   1. admit: shape and version, and the issuer key the key id names;
 *   2. open (the WASM core: tags, binding of the two fields, Luhn) — done by the caller's crypto engine;
 *   3. judge the card row: the stored basic key equals the decrypted one (constant time), the payload is the
 *      current generation under the current key, the card is active.
 * Every failure is a typed reason; the gateway decides how much of it a scanner may see.
 *
 * No timing oracle on key ids: a payload naming an unknown or retired key is opened under a dummy key, so it
 * costs the same crypto as a known key id with a bad tag, and neither reaches the store.
 */
import { randomBytes } from 'node:crypto';
import { ScanpayError, isScanpayError, type ErrorCode } from '../core/errors.ts';
import { DVD1_STATUS, type CryptoCore, type Dvd1OpenInput, type Dvd1Opened } from '../core/types.ts';
import type { IssuerKeyRing } from './key-ring.ts';
import { parsePayload, payloadFromText, type ParsedPayload } from './payload.ts';
import { unwrapBasicKey } from './card-secrets.ts';
import type { CardRecord, Store } from './store/types.ts';

export type IllegalReason = Extract<ErrorCode,
  | 'PAYLOAD_TOO_LARGE' | 'PAYLOAD_MALFORMED' | 'KEY_UNKNOWN' | 'KEY_RETIRED' | 'PAYLOAD_TAG_INVALID'
  | 'PAN_INVALID' | 'CARD_UNKNOWN' | 'BASIC_KEY_MISMATCH' | 'GENERATION_STALE' | 'CARD_BLOCKED' | 'CARD_LOCKED'>;

export type Verdict =
  | { legal: true; card: CardRecord; payload: ParsedPayload }
  | { legal: false; reason: IllegalReason };

/** A payload that parsed, with the key to open it under (a dummy one when its key id is unusable). */
export interface AdmittedPayload {
  payload: ParsedPayload;
  open: Dvd1OpenInput;
  keyFault: 'KEY_UNKNOWN' | 'KEY_RETIRED' | null;
}

/** Opens nothing that a real key sealed: a tag under it fails like a forged one. */
const DUMMY_KEY = new Uint8Array(randomBytes(32));

/** Step 1: shape, version and key state. Failures of shape cost no crypto (they do not depend on a key id). */
export function admitPayload(keyRing: IssuerKeyRing, scanned: string | Uint8Array): AdmittedPayload | IllegalReason {
  let payload: ParsedPayload;
  try {
    payload = parsePayload(typeof scanned === 'string' ? payloadFromText(scanned) : scanned);
  } catch (e) {
    if (isScanpayError(e)) return e.code as IllegalReason;
    throw e;
  }
  const key = keyRing.lookupForOpening(payload.keyId);
  const keyFault = typeof key === 'string' ? key : null;
  return { payload, open: { kek: keyFault ? DUMMY_KEY : (key as Uint8Array), ...payload.fields }, keyFault };
}

/** Step 2's verdict: the key fault first (its open was under the dummy key), then tags and Luhn. */
export function openedVerdict(admitted: AdmittedPayload, opened: Dvd1Opened): IllegalReason | null {
  if (admitted.keyFault) return admitted.keyFault;
  if (opened.ok) return null;
  return opened.status & (DVD1_STATUS.PAN_TAG | DVD1_STATUS.KEY_TAG) ? 'PAYLOAD_TAG_INVALID' : 'PAN_INVALID';
}

/** The payload's generation and key against the card row, and the card's status. */
export function currentVerdict(payload: ParsedPayload, card: CardRecord): IllegalReason | null {
  if (payload.generation !== card.generation || payload.keyId !== card.keyId) return 'GENERATION_STALE';
  if (card.status === 'blocked') return 'CARD_BLOCKED';
  if (card.status === 'locked') return 'CARD_LOCKED';
  return null;
}

/** Step 3: the crypto binding of row and card first, then generation and status. `basicKey` is the decrypted one. */
export function judgeCard(core: CryptoCore, keyRing: IssuerKeyRing, payload: ParsedPayload, card: CardRecord | null, basicKey: Uint8Array): IllegalReason | null {
  if (!card) return 'CARD_UNKNOWN';
  let stored: Uint8Array | null = null;
  try {
    stored = unwrapBasicKey(core, keyRing.storageKey, card.token, card.wrappedBasicKey);
    if (!core.constantTimeEqual(stored, basicKey)) return 'BASIC_KEY_MISMATCH';
  } catch (e) {
    if (isScanpayError(e, 'AEAD_TAG_INVALID')) return 'BASIC_KEY_MISMATCH'; // row altered at rest
    throw e;
  } finally {
    stored?.fill(0);
  }
  return currentVerdict(payload, card);
}

/**
 * S25: the payload kept on the session, admitted again against the card row as it is now (re-issued,
 * re-keyed or retired since the scan). The DVD-1 batch then re-checks tags, binding and basic key.
 */
export function admitForPin(keyRing: IssuerKeyRing, scanned: string, card: CardRecord): AdmittedPayload | IllegalReason {
  const admitted = admitPayload(keyRing, scanned);
  if (typeof admitted === 'string') return admitted;
  return admitted.keyFault ?? currentVerdict(admitted.payload, card) ?? admitted;
}

export interface VerifierDeps {
  core: CryptoCore;
  keyRing: IssuerKeyRing;
  store: Store;
  /** Where step 2 runs: the gateway's worker pool; by default, this thread's core in one call. */
  openPayloads?: (inputs: Dvd1OpenInput[]) => Promise<Dvd1Opened[]>;
}

/** Judges each scanned payload (QR text or raw bytes) against the store; verdicts come back in input order. */
export async function judgePayloads(deps: VerifierDeps, scanned: readonly (string | Uint8Array)[]): Promise<Verdict[]> {
  const verdicts: (Verdict | undefined)[] = new Array(scanned.length);
  const admitted: { index: number; payload: AdmittedPayload }[] = [];
  scanned.forEach((item, index) => {
    const result = admitPayload(deps.keyRing, item);
    if (typeof result === 'string') verdicts[index] = { legal: false, reason: result };
    else admitted.push({ index, payload: result });
  });

  const inputs = admitted.map(({ payload }) => payload.open);
  const opened = deps.openPayloads ? await deps.openPayloads(inputs) : deps.core.dvd1OpenBatch(inputs);
  const decoder = new TextDecoder();

  await Promise.all(opened.map(async (result, i) => {
    const { index, payload } = admitted[i];
    try {
      const failure = openedVerdict(payload, result);
      if (failure) {
        verdicts[index] = { legal: false, reason: failure };
        return;
      }
      const card = await deps.store.getCard(deps.keyRing.cardToken(decoder.decode(result.pan!)));
      const reason = judgeCard(deps.core, deps.keyRing, payload.payload, card, result.basicKey!);
      verdicts[index] = reason ? { legal: false, reason } : { legal: true, card: card!, payload: payload.payload };
    } finally {
      result.basicKey?.fill(0);
      result.pan?.fill(0);
    }
  }));
  return verdicts as Verdict[];
}

/** One payload; throws the reason as a ScanpayError when it is illegal. */
export async function assertLegal(deps: VerifierDeps, scanned: string | Uint8Array): Promise<{ card: CardRecord; payload: ParsedPayload }> {
  const [verdict] = await judgePayloads(deps, [scanned]);
  if (!verdict.legal) throw new ScanpayError(verdict.reason);
  return verdict;
}

/** The PAN inside an authentic payload, whatever the card's state (for operators naming a card by its QR). */
export function panOfPayload(deps: Omit<VerifierDeps, 'store'>, scanned: string | Uint8Array): string {
  const admitted = admitPayload(deps.keyRing, scanned);
  if (typeof admitted === 'string') throw new ScanpayError(admitted);
  const [opened] = deps.core.dvd1OpenBatch([admitted.open]);
  const failure = openedVerdict(admitted, opened);
  opened.basicKey?.fill(0);
  if (failure) throw new ScanpayError(failure);
  return new TextDecoder().decode(opened.pan!);
}
