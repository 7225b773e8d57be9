/**
 * describe() for a suite that needs an engine installed. Without it: skipped with a banner on stderr,
 * or, under CI=true, a failing suite, so a green CI run means the engine really ran.
 */
import { beforeAll, describe, it } from 'vitest';

export function describeEngine(name: string, missing: string | null, body: () => void): void {
  if (missing === null) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      beforeAll(() => {
        throw new Error(`${name}: ${missing}. CI requires every engine.`);
      });
      it('runs the core', () => {});
    });
    return;
  }
  const rule = '!'.repeat(78);
  console.warn(`\n${rule}\n!! SKIPPED: ${name}\n!! ${missing}.\n!! Under CI=true this suite fails instead.\n${rule}\n`);
  describe.skip(name, () => {
    it('runs the core', () => {});
  });
}
