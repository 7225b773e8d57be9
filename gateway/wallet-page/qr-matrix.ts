/**
 * A QR code's modules (ISO/IEC 18004) for the wallet page's one-time code, in the browser, with no third-party
 * code: alphanumeric mode only (the code's base45 text is QR alphanumeric), error correction level M, versions 1
 * to 6 (up to 154 characters: a code's 62 take version 4), mask pattern 0. The gateway serves this module as it
 * is (transpiled from the sources); test/gateway/wallet-qr.test.ts reads its codes back with jsqr.
 * Written after Project Nayuki's QR Code generator (MIT), reduced to what the wallet needs.
 * @example
 *   const modules = qrMatrix('6BFOXN*TS0…');     // modules[y][x]: true is dark; no quiet zone
 */

const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
/** Level M, by version: [error-correction codewords per block, blocks, data codewords per block] (equal blocks for 1–6). */
const BLOCKS: readonly (readonly [number, number, number])[] = [[10, 1, 16], [16, 1, 28], [26, 1, 44], [18, 2, 32], [24, 2, 43], [16, 4, 27]];
const ALIGNMENT: readonly (readonly number[])[] = [[], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34]];
export const QR_MAX_ALPHANUMERIC = 154;

/** GF(2^8) product modulo x^8 + x^4 + x^3 + x^2 + 1 (0x11d). */
function gfMultiply(x: number, y: number): number {
  let z = 0;
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d);
    z ^= ((y >>> i) & 1) * x;
  }
  return z;
}

function reedSolomonDivisor(degree: number): number[] {
  const result = new Array<number>(degree).fill(0);
  result[degree - 1] = 1;
  let root = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < result.length; j++) {
      result[j] = gfMultiply(result[j]!, root);
      if (j + 1 < result.length) result[j]! ^= result[j + 1]!;
    }
    root = gfMultiply(root, 0x02);
  }
  return result;
}

function reedSolomonRemainder(data: readonly number[], divisor: readonly number[]): number[] {
  const result = new Array<number>(divisor.length).fill(0);
  for (const b of data) {
    const factor = b ^ result.shift()!;
    result.push(0);
    divisor.forEach((coefficient, i) => (result[i]! ^= gfMultiply(coefficient, factor)));
  }
  return result;
}

/** The text's data bits: mode 0010, a 9-bit count, 11 bits per pair and 6 for a last single character. */
function dataBits(text: string): number[] {
  const bits: number[] = [];
  const put = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
  };
  put(0b0010, 4);
  put(text.length, 9);
  for (let i = 0; i + 1 < text.length; i += 2) put(ALPHANUMERIC.indexOf(text[i]!) * 45 + ALPHANUMERIC.indexOf(text[i + 1]!), 11);
  if (text.length % 2 === 1) put(ALPHANUMERIC.indexOf(text[text.length - 1]!), 6);
  return bits;
}

/** The modules of `text` (characters of the QR alphanumeric set, 1 to QR_MAX_ALPHANUMERIC): rows of booleans, dark true. */
export function qrMatrix(text: string): boolean[][] {
  if (typeof text !== 'string' || text.length === 0 || text.length > QR_MAX_ALPHANUMERIC || [...text].some((c) => !ALPHANUMERIC.includes(c))) {
    throw new RangeError(`qrMatrix takes 1 to ${QR_MAX_ALPHANUMERIC} characters of the QR alphanumeric set`);
  }
  const bits = dataBits(text);
  const version = BLOCKS.findIndex(([, blocks, data]) => blocks * data * 8 >= bits.length) + 1;
  const [ecLength, blocks, dataLength] = BLOCKS[version - 1]!;
  const capacity = blocks * dataLength * 8;
  bits.push(...new Array<number>(Math.min(4, capacity - bits.length)).fill(0)); // terminator
  while (bits.length % 8 !== 0) bits.push(0);
  const codewords: number[] = [];
  for (let i = 0; i < bits.length; i += 8) codewords.push(bits.slice(i, i + 8).reduce((byte, bit) => (byte << 1) | bit, 0));
  for (let pad = 0xec; codewords.length < blocks * dataLength; pad ^= 0xec ^ 0x11) codewords.push(pad);

  // blocks, their error correction, interleaved: every block's i-th data codeword, then every block's i-th EC one
  const divisor = reedSolomonDivisor(ecLength);
  const dataBlocks = Array.from({ length: blocks }, (_, b) => codewords.slice(b * dataLength, (b + 1) * dataLength));
  const ecBlocks = dataBlocks.map((block) => reedSolomonRemainder(block, divisor));
  const sequence: number[] = [];
  for (let i = 0; i < dataLength; i++) for (const block of dataBlocks) sequence.push(block[i]!);
  for (let i = 0; i < ecLength; i++) for (const block of ecBlocks) sequence.push(block[i]!);

  const size = version * 4 + 17;
  const modules = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  const reserved = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  const setFunction = (x: number, y: number, dark: boolean) => {
    modules[y]![x] = dark;
    reserved[y]![x] = true;
  };
  for (let i = 0; i < size; i++) {
    setFunction(6, i, i % 2 === 0);
    setFunction(i, 6, i % 2 === 0);
  }
  for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]] as const) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const distance = Math.max(Math.abs(dx), Math.abs(dy));
        const x = cx + dx;
        const y = cy + dy;
        if (x >= 0 && x < size && y >= 0 && y < size) setFunction(x, y, distance !== 2 && distance !== 4);
      }
    }
  }
  const centres = ALIGNMENT[version - 1]!;
  centres.forEach((cx, i) => centres.forEach((cy, j) => {
    const last = centres.length - 1;
    if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return; // the finders' corners
    for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) setFunction(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
  }));
  const formatBits = (() => {
    const data = (0b00 << 3) | 0; // level M, mask 0
    let remainder = data;
    for (let i = 0; i < 10; i++) remainder = (remainder << 1) ^ ((remainder >>> 9) * 0x537);
    return ((data << 10) | remainder) ^ 0x5412;
  })();
  const bit = (value: number, i: number) => ((value >>> i) & 1) !== 0;
  for (let i = 0; i <= 5; i++) setFunction(8, i, bit(formatBits, i));
  setFunction(8, 7, bit(formatBits, 6));
  setFunction(8, 8, bit(formatBits, 7));
  setFunction(7, 8, bit(formatBits, 8));
  for (let i = 9; i < 15; i++) setFunction(14 - i, 8, bit(formatBits, i));
  for (let i = 0; i < 8; i++) setFunction(size - 1 - i, 8, bit(formatBits, i));
  for (let i = 8; i < 15; i++) setFunction(8, size - 15 + i, bit(formatBits, i));
  setFunction(8, size - 8, true); // the dark module

  // the codewords in the zigzag of two-module columns, right to left, skipping the vertical timing column
  let i = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let vertical = 0; vertical < size; vertical++) {
      for (let j = 0; j < 2; j++) {
        const x = right - j;
        const y = ((right + 1) & 2) === 0 ? size - 1 - vertical : vertical;
        if (reserved[y]![x]) continue;
        if (i < sequence.length * 8) modules[y]![x] = bit(sequence[i >>> 3]!, 7 - (i & 7));
        i++;
        if ((x + y) % 2 === 0) modules[y]![x] = !modules[y]![x]; // mask 0
      }
    }
  }
  return modules;
}
