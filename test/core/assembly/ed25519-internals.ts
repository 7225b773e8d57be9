/**
 * Test-only exports of the Ed25519 building blocks (field, scalars, points), compiled by
 * test/core/ed25519-internals.test.ts with asc so the fast paths can be checked against BigInt
 * references. Not part of the shipped module.
 */
export {
  FE, ONE, D, D2, SQRT_M1, feAdd, feSub, feNeg, feMul, feSq, feCarry, fePow22523, feFromBytes, feToBytes, feIsZero, feEqual, feIsOdd,
} from '../../../assembly/field25519';
export { scalarIsCanonical, scalarReduce512, scalarToNaf5 } from '../../../assembly/scalar25519';
export {
  POINT, pointDecode, pointAdd, pointDouble, pointToCached, pointIsIdentity, pointIsSmallOrder, pointOddMultiples, pointDoubleScalarMul,
} from '../../../assembly/edwards25519';

export function heapBase(): usize {
  return (__heap_base + 15) & ~<usize>15;
}
