/**
 * Ed25519 signature verification (RFC 8032 §5.1.7). Verification only: the core never holds an
 * Ed25519 secret key (signing happens elsewhere, with node:crypto).
 *
 * Accepts exactly when all of these hold:
 * 1. S (the signature's second half) is below L; no reduction (§5.1.7 step 1; Wycheproof's
 *    SignatureMalleability cases).
 * 2. A (the public key) and R (the first half) decode as RFC 8032 §5.1.3 says: y < p, x exists, and
 *    x = 0 only with a clear sign bit. Non-canonical encodings are rejected, not reduced.
 * 3. A is not of small order ([8]A ≠ identity). Not in RFC 8032: such a key is never produced by key
 *    generation, and for one the equation below holds for every message with S = 0 and R small.
 *    @noble/curves (zip215: false) and libsodium reject it too.
 * 4. The cofactored equation [8][S]B = [8]R + [8][k]A holds, k = SHA-512(R ‖ A ‖ M) mod L over the
 *    bytes as given. RFC 8032 §5.1.7 states this equation (the cofactorless [S]B = R + [k]A, which
 *    OpenSSL checks, is "sufficient, but not required"); the two agree on every signature an honest
 *    signer makes and on every Wycheproof case, and differ only for R or A with a small-order component.
 * Everything verified is public (key, signature, message): the code is variable time.
 */
import { SHA512_CTX, sha512Init, sha512Update, sha512Final, wipeSha512Scratch } from './sha512';
import { wipeFieldScratch } from './field25519';
import { NAF_DIGITS, scalarIsCanonical, scalarReduce512, scalarToNaf5 } from './scalar25519';
import {
  POINT, TABLE_SIZE, pointDecode, pointNegate, pointToCached, pointAdd, pointDouble, pointIsIdentity,
  pointIsSmallOrder, pointOddMultiples, pointDoubleScalarMul, wipeEdwardsScratch,
} from './edwards25519';

// The base point B (RFC 8032 §5.1: y = 4/5, x positive) as encoded; decoded once into BASE_TABLE.
const BASE_ENCODED: usize = memory.data<u8>([
  0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
  0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
]);
// B, 3B, …, 15B cached: public constants, built by the first verification and kept (never wiped).
const BASE_TABLE: usize = memory.data(<i32>TABLE_SIZE);
let baseTableBuilt = false;

// Scratch, wiped before ed25519Verify returns.
const SCRATCH_SIZE: usize = 3 * POINT + POINT + TABLE_SIZE + 2 * NAF_DIGITS + SHA512_CTX + 64 + 32;
const SCRATCH: usize = memory.data(<i32>SCRATCH_SIZE);
const PUBLIC_KEY: usize = SCRATCH;            // A, then −A
const COMMIT: usize = PUBLIC_KEY + POINT;     // R
const CHECK: usize = COMMIT + POINT;          // [S]B − [k]A, then [8]([S]B − [k]A − R)
const CACHED: usize = CHECK + POINT;          // R, cached
const TABLE: usize = CACHED + POINT;          // −A, −3A, …, −15A, cached
const NAF_S: usize = TABLE + TABLE_SIZE;
const NAF_K: usize = NAF_S + NAF_DIGITS;
const HASH: usize = NAF_K + NAF_DIGITS;       // SHA-512 context
const DIGEST: usize = HASH + SHA512_CTX;
const K: usize = DIGEST + 64;                 // k = digest mod L

function buildBaseTable(): void {
  // the scratch point serves as B while its table is built; it is wiped with the rest
  pointDecode(PUBLIC_KEY, BASE_ENCODED);
  pointOddMultiples(BASE_TABLE, PUBLIC_KEY);
  baseTableBuilt = true;
}

function verify(publicKey: usize, signature: usize, msg: usize, msgLen: usize): bool {
  const s = signature + 32;
  if (!scalarIsCanonical(s)) return false;
  if (!pointDecode(PUBLIC_KEY, publicKey)) return false;
  if (pointIsSmallOrder(PUBLIC_KEY)) return false;
  if (!pointDecode(COMMIT, signature)) return false;

  // k = SHA-512(R ‖ A ‖ M) mod L, M read where it lies
  sha512Init(HASH);
  sha512Update(HASH, signature, 32);
  sha512Update(HASH, publicKey, 32);
  sha512Update(HASH, msg, msgLen);
  sha512Final(HASH, DIGEST);
  scalarReduce512(K, DIGEST);

  // CHECK = [S]B + [k](−A) − R, then ×8: the identity exactly when the cofactored equation holds
  pointNegate(PUBLIC_KEY);
  pointOddMultiples(TABLE, PUBLIC_KEY);
  scalarToNaf5(NAF_S, s);
  scalarToNaf5(NAF_K, K);
  pointDoubleScalarMul(CHECK, NAF_K, TABLE, NAF_S, BASE_TABLE);
  pointToCached(CACHED, COMMIT);
  pointAdd(CHECK, CHECK, CACHED, true);
  pointDouble(CHECK, CHECK, false);
  pointDouble(CHECK, CHECK, false);
  pointDouble(CHECK, CHECK, false);
  return pointIsIdentity(CHECK);
}

/** True when the 64-byte signature at `signature` is valid for the msgLen bytes at msg under the 32-byte key at publicKey. */
export function ed25519Verify(publicKey: usize, signature: usize, msg: usize, msgLen: usize): bool {
  if (!baseTableBuilt) buildBaseTable();
  const valid = verify(publicKey, signature, msg, msgLen);
  wipeEd25519Scratch();
  return valid;
}

export function wipeEd25519Scratch(): void {
  memory.fill(SCRATCH, 0, SCRATCH_SIZE);
  wipeEdwardsScratch();
  wipeFieldScratch();
  wipeSha512Scratch();
}
