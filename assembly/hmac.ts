/**
 * HMAC-SHA256 (RFC 2104), any key length: keys over 64 bytes are hashed first (RFC 2104 §3).
 *
 * A context is HMAC_CTX bytes: an inner SHA-256 context keyed with K^ipad, then an outer one keyed
 * with K^opad. A keyed context can be copied (memory.copy, HMAC_CTX bytes) and reused for many
 * messages under the same key: that is how the batch computes pad states once.
 */
import { SHA256_CTX, sha256Init, sha256Update, sha256Final } from './sha256';

export const HMAC_CTX: usize = SHA256_CTX * 2;

const KEY_BLOCK: usize = memory.data(64);
const INNER_DIGEST: usize = memory.data(32);

export function hmacInit(ctx: usize, key: usize, keyLen: usize): void {
  memory.fill(KEY_BLOCK, 0, 64);
  if (keyLen > 64) {
    sha256Init(ctx);
    sha256Update(ctx, key, keyLen);
    sha256Final(ctx, KEY_BLOCK);
  } else {
    memory.copy(KEY_BLOCK, key, keyLen);
  }
  for (let i: usize = 0; i < 64; i += 4) store<u32>(KEY_BLOCK + i, load<u32>(KEY_BLOCK + i) ^ 0x36363636);
  sha256Init(ctx);
  sha256Update(ctx, KEY_BLOCK, 64);
  for (let i: usize = 0; i < 64; i += 4) store<u32>(KEY_BLOCK + i, load<u32>(KEY_BLOCK + i) ^ 0x6a6a6a6a); // ipad^opad
  sha256Init(ctx + SHA256_CTX);
  sha256Update(ctx + SHA256_CTX, KEY_BLOCK, 64);
  memory.fill(KEY_BLOCK, 0, 64);
}

export function hmacUpdate(ctx: usize, msg: usize, len: usize): void {
  sha256Update(ctx, msg, len);
}

export function hmacFinal(ctx: usize, out: usize): void {
  sha256Final(ctx, INNER_DIGEST);
  sha256Update(ctx + SHA256_CTX, INNER_DIGEST, 32);
  sha256Final(ctx + SHA256_CTX, out);
  memory.fill(INNER_DIGEST, 0, 32);
}

export function hmacSha256(key: usize, keyLen: usize, msg: usize, msgLen: usize, out: usize, ctx: usize): void {
  hmacInit(ctx, key, keyLen);
  hmacUpdate(ctx, msg, msgLen);
  hmacFinal(ctx, out);
}
