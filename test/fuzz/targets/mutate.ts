/**
 * Mutation arbitraries: from a valid input, the damaged versions a fuzzer should try — byte flips,
 * truncation, extension, overwritten and deleted ranges, splices of two valid inputs — for bytes and for
 * text (with a caller-chosen alphabet, e.g. base45, so mutations stay close to what a parser accepts).
 * @example
 *   fc.assert(fc.property(mutatedBytes([payloadA, payloadB]), (bytes) => { ... }));
 */
import fc from 'fast-check';

type Edit<T> = (base: T, other: T) => T;

function bytesEdit(): fc.Arbitrary<Edit<Uint8Array>> {
  return fc.oneof(
    // flip 1-8 bits anywhere
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 8 }).map((flips): Edit<Uint8Array> => (b) => {
      const out = new Uint8Array(b);
      for (const [at, bit] of flips) if (out.length) out[at % out.length] ^= 1 << bit;
      return out;
    }),
    fc.nat().map((n): Edit<Uint8Array> => (b) => b.slice(0, n % (b.length + 1))), // truncate
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((tail): Edit<Uint8Array> => (b) => concat(b, tail)), // extend
    fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([at, bytes]): Edit<Uint8Array> => (b) => { // overwrite
      const out = new Uint8Array(b);
      out.set(bytes.subarray(0, Math.max(0, out.length - (at % (out.length + 1)))), at % (out.length + 1));
      return out;
    }),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 32 })).map(([at, n]): Edit<Uint8Array> => (b) => { // delete a range
      const from = at % (b.length + 1);
      return concat(b.slice(0, from), b.slice(from + n));
    }),
    fc.nat().map((cut): Edit<Uint8Array> => (b, other) => { // splice: head of one, tail of another
      const at = cut % (Math.min(b.length, other.length) + 1);
      return concat(b.slice(0, at), other.slice(at));
    }),
  );
}

function textEdit(alphabet: fc.Arbitrary<string>): fc.Arbitrary<Edit<string>> {
  const chunk = fc.string({ unit: alphabet, minLength: 1, maxLength: 8 });
  return fc.oneof(
    fc.tuple(fc.nat(), chunk).map(([at, s]): Edit<string> => (t) => { // replace characters
      const i = at % (t.length + 1);
      return t.slice(0, i) + s + t.slice(i + s.length);
    }),
    fc.tuple(fc.nat(), chunk).map(([at, s]): Edit<string> => (t) => { // insert
      const i = at % (t.length + 1);
      return t.slice(0, i) + s + t.slice(i);
    }),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 8 })).map(([at, n]): Edit<string> => (t) => { // delete
      const i = at % (t.length + 1);
      return t.slice(0, i) + t.slice(i + n);
    }),
    fc.nat().map((n): Edit<string> => (t) => t.slice(0, n % (t.length + 1))), // truncate
    fc.nat().map((cut): Edit<string> => (t, other) => { // splice
      const at = cut % (Math.min(t.length, other.length) + 1);
      return t.slice(0, at) + other.slice(at);
    }),
  );
}

function mutated<T>(bases: readonly T[], edit: fc.Arbitrary<Edit<T>>): fc.Arbitrary<T> {
  return fc.tuple(fc.constantFrom(...bases), fc.constantFrom(...bases), fc.array(edit, { minLength: 1, maxLength: 3 }))
    .map(([base, other, edits]) => edits.reduce((value, e) => e(value, other), base));
}

/** 1-3 random edits of one of `bases` (splices take their second half from another base). */
export const mutatedBytes = (bases: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> => mutated(bases, bytesEdit());

export const mutatedText = (bases: readonly string[], alphabet: fc.Arbitrary<string>): fc.Arbitrary<string> => mutated(bases, textEdit(alphabet));

/** Characters a mutation of text draws from: mostly `chars`, sometimes anything (control, non-BMP, lone surrogates). */
export function alphabetOf(chars: string): fc.Arbitrary<string> {
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...chars) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) });
}

/** Long inputs, past every size limit a parser has (up to `max` units). */
export function hugeText(max: number): fc.Arbitrary<string> {
  return fc.tuple(fc.string({ minLength: 1, maxLength: 4 }), fc.integer({ min: 257, max })).map(([s, n]) => s.repeat(Math.ceil(n / s.length)).slice(0, n));
}

/** One of `records` with one field replaced by a `value`, deleted, or a new field (random name) added. */
export function fieldEdited(records: readonly Record<string, unknown>[], value: fc.Arbitrary<unknown>): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(fc.constantFrom(...records), value, fc.constantFrom('replace', 'delete', 'add'), fc.string({ maxLength: 10 }))
    .chain(([record, v, how, extra]) => fc.constantFrom(...Object.keys(record)).map((key) => {
      const out = { ...record };
      if (how === 'delete') delete out[key];
      else out[how === 'add' ? extra : key] = v;
      return out;
    }));
}

/** Values of every JavaScript type, for entry points typed `unknown` or called from untyped code. */
export const wronglyTyped = (): fc.Arbitrary<unknown> =>
  fc.oneof(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }), fc.constant(undefined), fc.constant(null));

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
