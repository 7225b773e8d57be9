/**
 * Ed25519 keys for tests and benchmarks as node:crypto KeyObjects, made from a 32-byte seed (RFC 8032's secret
 * key) with createPrivateKey — never with generateKeyPairSync. On Node 20, exporting a key as JWK can deadlock when a
 * garbage collection during the export finalizes the generateKeyPairSync job that made the key: the export holds
 * the key's mutex and the job's destructor waits for it (a vitest fork of test/core hung so under CI, 2026-12-06;
 * gdb: KeyObjectHandle::ExportJWK → GC → ~KeyGenJob → uv_mutex_lock). A seeded key has no such job.
 * @example
 *   const key = ed25519PrivateKey();          // a fresh random key
 *   const pub = ed25519RawPublicKey(key);     // its 32-byte public key
 *   const rfc = ed25519PrivateKey(unhex(v.secretKey));
 */
import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function ed25519PrivateKey(seed: Uint8Array = randomBytes(32)): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** The 32 raw bytes of the public key of a private or public Ed25519 KeyObject. */
export function ed25519RawPublicKey(key: KeyObject): Uint8Array {
  return new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url'));
}
