/**
 * Gate before timing: every implementation must give the reference's results (ok, status,
 * cryptogram) on the same records, otherwise the bench would compare different work.
 */
import type { Dvd1Record } from '../../core/types.ts';
import { firstDifference } from './compare.ts';
import type { Dvd1Implementation } from './measure.ts';

/** Throws an Error naming every implementation that differs from `reference`, and where. */
export function crossCheck(
  reference: Dvd1Implementation,
  others: readonly Dvd1Implementation[],
  records: readonly Dvd1Record[],
): void {
  const expected = reference.run(records);
  const failures = others.flatMap((impl) => {
    const difference = firstDifference(expected, impl.run(records));
    return difference === undefined ? [] : [`  ${impl.name} vs ${reference.name}: ${difference}`];
  });
  if (failures.length > 0) {
    throw new Error(`DVD-1 cross-check failed on ${records.length} records:\n${failures.join('\n')}`);
  }
}
