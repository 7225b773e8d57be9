/**
 * Known-answer self-test, run by the `selftest` export (0 = pass, else the number of the failed case).
 * Cases: FIPS 180-2 B.1 ("abc"), RFC 4231 case 1 (HMAC), RFC 5869 case 1 (HKDF),
 * RFC 8439 §2.8.2 (AEAD seal and open, and a rejected tampered tag), a Luhn pair, FIPS 180-2 C.1
 * (SHA-512 "abc"), RFC 8032 §7.1 TEST 2 (Ed25519: accepted, and rejected with one message bit flipped), and a
 * DVD-1 code record (a one-time code with its PIN, values from node:crypto: accepted with the PIN record's
 * cryptogram, and refused with CODE_MAC and a zero cryptogram with one mac bit flipped).
 */
import { sha256 } from './sha256';
import { SHA512_CTX, sha512, wipeSha512Scratch } from './sha512';
import { ed25519Verify } from './ed25519';
import { hmacSha256, HMAC_CTX } from './hmac';
import { hkdfExtract, hkdfExpand } from './hkdf';
import { aeadSeal, aeadOpen } from './aead';
import { ctEqual } from './ct';
import { luhnCheck } from './luhn';
import { dvd1CodeBatch } from './dvd1-code';
import { AMOUNT, CODE_PAN, CODE_SIGNED, CODE_WITH_PIN, MERCHANT, PIN, SID, STATUS_CODE_MAC, STORED_BK, STORED_PVV } from './dvd1-layout';

const SCRATCH_SIZE: i32 = 1024;
const SCRATCH: usize = memory.data(SCRATCH_SIZE);
const CTX: usize = memory.data(<i32>HMAC_CTX);
const CTX512: usize = memory.data(<i32>SHA512_CTX);
const A: usize = SCRATCH, B: usize = SCRATCH + 256, C: usize = SCRATCH + 512, D: usize = SCRATCH + 768;

function nibble(c: i32): u32 {
  return <u32>(c <= 57 ? c - 48 : c - 87); // '0'-'9', 'a'-'f'; constants only, never secrets
}

/** Decodes lowercase hex into memory at dst; returns the byte length. */
function hex(s: string, dst: usize): usize {
  const n = <usize>(s.length >> 1);
  for (let i: usize = 0; i < n; i++) {
    store<u8>(dst + i, <u8>((nibble(s.charCodeAt(<i32>(i << 1))) << 4) | nibble(s.charCodeAt(<i32>(i << 1) + 1))));
  }
  return n;
}

function ascii(s: string, dst: usize): usize {
  for (let i = 0; i < s.length; i++) store<u8>(dst + <usize>i, <u8>s.charCodeAt(i));
  return <usize>s.length;
}

function sha256Case(): bool {
  const len = ascii('abc', A);
  sha256(A, len, B, CTX);
  hex('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', C);
  return ctEqual(B, C, 32) == 1;
}

function hmacCase(): bool {
  const keyLen = hex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b', A);
  const msgLen = ascii('Hi There', B);
  hmacSha256(A, keyLen, B, msgLen, C, CTX);
  hex('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7', D);
  return ctEqual(C, D, 32) == 1;
}

function hkdfCase(): bool {
  const ikmLen = hex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b', A);
  const saltLen = hex('000102030405060708090a0b0c', A + 64);
  const infoLen = hex('f0f1f2f3f4f5f6f7f8f9', A + 128);
  hkdfExtract(A + 64, saltLen, A, ikmLen, B);
  hex('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5', D);
  if (ctEqual(B, D, 32) != 1) return false;
  if (hkdfExpand(B, 32, A + 128, infoLen, C, 42) != 0) return false;
  hex('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865', D);
  return ctEqual(C, D, 42) == 1;
}

function aeadCase(): bool {
  const key = A, nonce = A + 32, aad = A + 48;
  for (let i: usize = 0; i < 32; i++) store<u8>(key + i, <u8>(0x80 + i));
  hex('070000004041424344454647', nonce);
  const aadLen = hex('50515253c0c1c2c3c4c5c6c7', aad);
  const ptLen = ascii("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.", B);
  aeadSeal(key, nonce, aad, aadLen, B, ptLen, C);
  hex('d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116'
    + '1ae10b594f09e26a7e902ecbd0600691', D);
  if (ctEqual(C, D, ptLen + 16) != 1) return false;
  if (aeadOpen(key, nonce, aad, aadLen, C, ptLen, C + ptLen, D) != 1) return false;
  if (ctEqual(D, B, ptLen) != 1) return false;
  store<u8>(C + ptLen + 15, load<u8>(C + ptLen + 15) ^ 1);
  return aeadOpen(key, nonce, aad, aadLen, C, ptLen, C + ptLen, D) == 0;
}

function luhnCase(): bool {
  const good = ascii('4111111111111111', A);
  const bad = ascii('4111111111111112', B);
  return luhnCheck(A, good) == 1 && luhnCheck(B, bad) == 0;
}

function sha512Case(): bool {
  const len = ascii('abc', A);
  sha512(A, len, B, CTX512);
  hex('ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f', C);
  return ctEqual(B, C, 64) == 1;
}

function ed25519Case(): bool {
  const pub = A, sig = A + 32, msg = A + 96;
  hex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', pub);
  hex('92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00', sig);
  const msgLen = hex('72', msg);
  if (!ed25519Verify(pub, sig, msg, msgLen)) return false;
  store<u8>(msg, load<u8>(msg) ^ 1);
  return !ed25519Verify(pub, sig, msg, msgLen);
}

/** The code record of the known answer at A (bk = 00..1f, PAN 4111…1111, enrolment id a0..af, step 58907520, counter 1, PIN 1234). */
function codeRecord(flipMac: bool): void {
  memory.fill(A, 0, 256);
  hex('02a0a1a2a3a4a5a6a7a8a9aaabacadaeaf0382db80000000015487732a7eaf037b71e3c8b042880501', A + CODE_SIGNED);
  if (flipMac) store<u8>(A + 40, load<u8>(A + 40) ^ 1);
  ascii('4111111111111111', A + CODE_PAN);
  store<u8>(A + CODE_WITH_PIN, 1);
  for (let i: usize = 0; i < 32; i++) store<u8>(A + STORED_BK + i, <u8>i);
  hex('738536c107bdcc00a725f6be1e4178e7bc985f991b33a2d369ad053a8d48d673', A + STORED_PVV);
  ascii('1234', A + PIN);
  for (let i: usize = 0; i < 16; i++) store<u8>(A + SID + i, <u8>(0x10 + i));
  ascii('scanpay-selftest', A + MERCHANT);
  hex('00000000000004d2', A + AMOUNT);
}

function codeCase(): bool {
  codeRecord(false);
  if (dvd1CodeBatch(A, 1, B, B + 32) != 1 || load<u8>(B + 32) != 0) return false;
  hex('7d69d05fe48a141f5f04f11fee6a56bad9af1b8f63a9cc5ac98818c53c5bb5b0', C);
  if (ctEqual(B, C, 32) != 1) return false;
  codeRecord(true);
  memory.fill(C, 0, 32);
  return dvd1CodeBatch(A, 1, B, B + 32) == 0 && <u32>load<u8>(B + 32) == STATUS_CODE_MAC && ctEqual(B, C, 32) == 1;
}

export function runSelftest(): i32 {
  let failed = 0;
  if (!sha256Case()) failed = 1;
  else if (!hmacCase()) failed = 2;
  else if (!hkdfCase()) failed = 3;
  else if (!aeadCase()) failed = 4;
  else if (!luhnCase()) failed = 5;
  else if (!sha512Case()) failed = 6;
  else if (!ed25519Case()) failed = 7;
  else if (!codeCase()) failed = 8;
  memory.fill(SCRATCH, 0, SCRATCH_SIZE);
  memory.fill(CTX, 0, HMAC_CTX);
  memory.fill(CTX512, 0, SHA512_CTX);
  wipeSha512Scratch();
  return failed;
}
