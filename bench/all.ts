/**
 * `npm run bench [-- --smoke]`: every micro benchmark in turn, each in its own process (so one's JIT
 * state and heap do not colour the next), with the same flags. Results land in bench/results/.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES = ['core.bench.ts', 'ed25519.bench.ts', 'codes.bench.ts', 'pool.bench.ts', 'scan-timing.bench.ts', 'merchant-api.bench.ts'];
const args = process.argv.slice(2);
const tsx = fileURLToPath(import.meta.resolve('tsx/cli'));

for (const file of BENCHES) {
  const path = fileURLToPath(new URL(file, import.meta.url));
  console.log(`\n=== ${file} ${args.join(' ')}`);
  const run = spawnSync(process.execPath, [tsx, path, ...args], { stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`bench: ${file} failed (exit ${run.status ?? run.signal})`);
    process.exit(1);
  }
}
