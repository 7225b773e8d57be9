/*
 * The scanpay core with no JavaScript at all: the scalar build translated to C by wasm2c (WABT 1.0.32,
 * `wasm2c scanpay-core.scalar.wasm -n scanpay_core -o core.c`) and compiled with gcc beside this file and
 * WABT's runtime (wasm-rt-impl.c). It reads the jobs of test/engines/probe.js on stdin and answers in the
 * same text, calling the module's exports over its linear memory as docs/abi.md describes:
 *   gcc -O2 -I. -I/usr/src/wasm2c probe.c core.c /usr/src/wasm2c/wasm-rt-impl.c -lm -o probe
 *   ./probe < jobs.txt          (or ./probe bench <records.bin> <count> <min-ms>: µs per record)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core.h"

#define PAGE 65536u

static Z_scanpay_core_instance_t core;
static u32 heap_next; /* bump allocator over the caller's memory, from heapBase(); reset per job */

static wasm_rt_memory_t *mem(void) { return Z_scanpay_coreZ_memory(&core); }

static u32 take(u32 length) {
  u32 at = heap_next;
  heap_next = (at + length + 15u) & ~15u;
  if (heap_next > mem()->size) {
    u32 pages = (heap_next - mem()->size + PAGE - 1) / PAGE;
    if (wasm_rt_grow_memory(mem(), pages) == (u32)-1) { fprintf(stderr, "probe: memory.grow failed\n"); exit(2); }
  }
  return at;
}

static u32 put(const u8 *bytes, u32 length) {
  u32 at = take(length);
  memcpy(mem()->data + at, bytes, length);
  return at;
}

static int nibble(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

/* Decodes a hex field ("-" is empty) in place; returns its length in bytes. */
static u32 unhex(char *s) {
  if (strcmp(s, "-") == 0) return 0;
  u32 n = (u32)strlen(s) / 2;
  for (u32 i = 0; i < n; i++) s[i] = (char)(nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]));
  return n;
}

static void print_hex(u32 at, u32 length) {
  if (length == 0) { fputc('-', stdout); return; }
  for (u32 i = 0; i < length; i++) printf("%02x", mem()->data[at + i]);
}

static int split(char *line, char **fields, int max) {
  int n = 0;
  for (char *tok = strtok(line, " \n"); tok && n < max; tok = strtok(NULL, " \n")) fields[n++] = tok;
  return n;
}

/* Base45 (RFC 9285) of `length` bytes at `at` in memory, printed as its ASCII in hex (the probe's `code` answer). */
static void print_base45_hex(u32 at, u32 length) {
  static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  const u8 *b = mem()->data + at;
  for (u32 i = 0; i < length; i += 2) {
    if (i + 1 < length) {
      u32 n = (u32)b[i] << 8 | b[i + 1];
      printf("%02x%02x%02x", alphabet[n % 45], alphabet[n / 45 % 45], alphabet[n / 2025]);
    } else {
      printf("%02x%02x", alphabet[b[i] % 45], alphabet[b[i] / 45]);
    }
  }
}

static void put_u32_be(u8 *p, u32 v) { p[0] = (u8)(v >> 24); p[1] = (u8)(v >> 16); p[2] = (u8)(v >> 8); p[3] = (u8)v; }

static void answer(char **f) {
  const char *op = f[0];
  if (strcmp(op, "seal") == 0 || strcmp(op, "open") == 0) {
    u32 kl = unhex(f[1]), nl = unhex(f[2]), al = unhex(f[3]), ml = unhex(f[4]);
    if (kl != 32 || nl != 12) { fprintf(stderr, "probe: key 32 B and nonce 12 B only\n"); exit(2); }
    u32 k = put((u8 *)f[1], 32), n = put((u8 *)f[2], 12), a = put((u8 *)f[3], al), m = put((u8 *)f[4], ml);
    if (op[0] == 's') {
      u32 out = take(ml + 16);
      Z_scanpay_coreZ_aeadSeal(&core, k, n, a, al, m, ml, out);
      print_hex(out, ml + 16);
    } else {
      u32 ct = ml - 16, out = take(ct);
      if (Z_scanpay_coreZ_aeadOpen(&core, k, n, a, al, m, ct, m + ct, out) == 1) { printf("ok "); print_hex(out, ct); }
      else printf("fail");
    }
  } else if (strcmp(op, "hmac") == 0) {
    u32 kl = unhex(f[1]), ml = unhex(f[2]);
    u32 k = put((u8 *)f[1], kl), m = put((u8 *)f[2], ml), out = take(32);
    Z_scanpay_coreZ_hmacSha256(&core, k, kl, m, ml, out);
    print_hex(out, 32);
  } else if (strcmp(op, "hkdf") == 0) {
    u32 il = unhex(f[1]), sl = unhex(f[2]), fl = unhex(f[3]), length = (u32)strtoul(f[4], NULL, 10);
    u32 i = put((u8 *)f[1], il), s = put((u8 *)f[2], sl), info = put((u8 *)f[3], fl), prk = take(32);
    Z_scanpay_coreZ_hkdfExtract(&core, s, sl, i, il, prk);
    u32 out = take(length > 8160 ? 0 : length);
    if (Z_scanpay_coreZ_hkdfExpand(&core, prk, 32, info, fl, out, length) != 0) printf("error HKDF_LENGTH");
    else print_hex(out, length);
  } else if (strcmp(op, "sha256") == 0) {
    u32 ml = unhex(f[1]), m = put((u8 *)f[1], ml), out = take(32);
    Z_scanpay_coreZ_sha256(&core, m, ml, out);
    print_hex(out, 32);
  } else if (strcmp(op, "sha512") == 0) {
    u32 ml = unhex(f[1]), m = put((u8 *)f[1], ml), out = take(64);
    Z_scanpay_coreZ_sha512(&core, m, ml, out);
    print_hex(out, 64);
  } else if (strcmp(op, "ed25519") == 0) {
    u32 kl = unhex(f[1]), sl = unhex(f[2]), ml = unhex(f[3]);
    if (kl != 32 || sl != 64) { printf("error BAD_LENGTH"); return; } /* the lengths are the caller's to check (docs/abi.md) */
    u32 k = put((u8 *)f[1], 32), s = put((u8 *)f[2], 64), m = put((u8 *)f[3], ml);
    printf("%d", Z_scanpay_coreZ_ed25519Verify(&core, k, s, m, ml));
  } else if (strcmp(op, "luhn") == 0) {
    u32 dl = unhex(f[1]), d = put((u8 *)f[1], dl);
    printf("%u", Z_scanpay_coreZ_luhn(&core, d, dl));
  } else if (strcmp(op, "dvd1") == 0 || strcmp(op, "open1") == 0) {
    u32 count = (u32)strtoul(f[1], NULL, 10), rl = unhex(f[2]);
    u32 size = op[0] == 'd' ? 32 : 48; /* cryptogram, or PAN ‖ basic key */
    u32 recs = put((u8 *)f[2], rl), out = take(count * size), statuses = take(count);
    u32 passed = op[0] == 'd' ? Z_scanpay_coreZ_dvd1Batch(&core, recs, count, out, statuses)
                              : Z_scanpay_coreZ_dvd1OpenBatch(&core, recs, count, out, statuses);
    printf("%u ", passed);
    print_hex(out, count * size + count); /* outputs and statuses are adjacent: statuses = out + count*size */
  } else if (strcmp(op, "code") == 0) {
    /* payload v2 from the exports alone: walletKey = HKDF(bk, "", "scanpay/v2/wallet-key" ‖ id); mac = HMAC(wk, label ‖ signed)[0..16] */
    static const char wallet_label[] = "scanpay/v2/wallet-key", code_label[] = "scanpay/v2/code\n";
    u32 bl = unhex(f[1]), il = unhex(f[2]);
    if (bl != 32 || il != 16) { fprintf(stderr, "probe: basic key 32 B and enrolment id 16 B only\n"); exit(2); }
    u8 info[21 + 16], message[16 + 25];
    memcpy(info, wallet_label, 21);
    memcpy(info + 21, f[2], 16);
    u8 *signed_bytes = message + 16;
    memcpy(message, code_label, 16);
    signed_bytes[0] = 2;
    memcpy(signed_bytes + 1, f[2], 16);
    put_u32_be(signed_bytes + 17, (u32)strtoul(f[3], NULL, 10));
    put_u32_be(signed_bytes + 21, (u32)strtoul(f[4], NULL, 10));
    u32 bk = put((u8 *)f[1], 32), inf = put(info, sizeof info), msg = put(message, sizeof message);
    u32 prk = take(32), wk = take(32), mac = take(32), code = take(41);
    Z_scanpay_coreZ_hkdfExtract(&core, 0, 0, bk, 32, prk);
    Z_scanpay_coreZ_hkdfExpand(&core, prk, 32, inf, sizeof info, wk, 32);
    Z_scanpay_coreZ_hmacSha256(&core, wk, 32, msg, sizeof message, mac);
    memcpy(mem()->data + code, signed_bytes, 25);
    memcpy(mem()->data + code + 25, mem()->data + mac, 16);
    print_hex(wk, 32);
    fputc(' ', stdout);
    print_hex(code, 41);
    fputc(' ', stdout);
    print_base45_hex(code, 41);
  } else if (strcmp(op, "vcode") == 0) {
    u32 count = (u32)strtoul(f[1], NULL, 10), rl = unhex(f[2]);
    u32 recs = put((u8 *)f[2], rl), out = take(count * 32), statuses = take(count);
    printf("%u ", Z_scanpay_coreZ_dvd1CodeBatch(&core, recs, count, out, statuses));
    print_hex(out, count * 32 + count);
  } else if (strcmp(op, "enrol") == 0) {
    u32 count = (u32)strtoul(f[1], NULL, 10), rl = unhex(f[2]), il = unhex(f[3]);
    u32 recs = put((u8 *)f[2], rl), ids = put((u8 *)f[3], il), out = take(count * 48), statuses = take(count);
    printf("%u ", Z_scanpay_coreZ_dvd1EnrolBatch(&core, recs, ids, count, out, statuses));
    print_hex(out, count * 48 + count);
  } else {
    fprintf(stderr, "probe: unknown job %s\n", op);
    exit(2);
  }
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* One batch of `count` records copied in from `records` (the batch wipes its input); returns how many passed. */
static u32 run_batch(const u8 *records, u32 count, u32 recs, u32 out, u32 statuses) {
  memcpy(mem()->data + recs, records, (size_t)count * 256);
  return Z_scanpay_coreZ_dvd1Batch(&core, recs, count, out, statuses);
}

/* DVD-1 µs per record: batches of `count` records from a file, for at least min_ms after a quarter as warm-up. */
static int bench(const char *file, u32 count, double min_ms) {
  FILE *in = fopen(file, "rb");
  if (!in) { perror(file); return 2; }
  u32 length = count * 256;
  u8 *records = malloc(length);
  if (fread(records, 1, length, in) != length) { fprintf(stderr, "probe: %s is short\n", file); return 2; }
  fclose(in);
  heap_next = Z_scanpay_coreZ_heapBase(&core);
  u32 recs = take(length), out = take(count * 32), statuses = take(count);
  double warm = now_us();
  while (now_us() - warm < min_ms * 250) run_batch(records, count, recs, out, statuses);
  u32 rounds = 0, passed = 0;
  double start = now_us(), elapsed;
  do {
    passed = run_batch(records, count, recs, out, statuses);
    rounds++;
    elapsed = now_us() - start;
  } while (elapsed < min_ms * 1000);
  printf("{\"usPerRecord\":%.4f,\"rounds\":%u,\"passed\":%u}\n", elapsed / ((double)rounds * count), rounds, passed);
  free(records);
  return 0;
}

int main(int argc, char **argv) {
  wasm_rt_init();
  Z_scanpay_core_init_module();
  Z_scanpay_core_instantiate(&core);
  int rc = 0;
  if (argc == 5 && strcmp(argv[1], "bench") == 0) {
    rc = bench(argv[2], (u32)strtoul(argv[3], NULL, 10), strtod(argv[4], NULL));
  } else {
    printf("selftest %u\nabi %u\nlanes %u\n", Z_scanpay_coreZ_selftest(&core), Z_scanpay_coreZ_abiVersion(&core), Z_scanpay_coreZ_simdLanes(&core));
    char *line = NULL;
    size_t cap = 0;
    char *fields[6];
    while (getline(&line, &cap, stdin) > 0) {
      if (split(line, fields, 6) == 0) continue;
      heap_next = Z_scanpay_coreZ_heapBase(&core);
      answer(fields);
      fputc('\n', stdout);
    }
    free(line);
  }
  Z_scanpay_core_free(&core);
  wasm_rt_free();
  return rc;
}
