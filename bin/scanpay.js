#!/usr/bin/env node
// The `scanpay` command: runs the compiled CLI in dist/ (`npm run build` makes it; the package ships it).
import { existsSync } from 'node:fs';

// Output piped into a reader that stops early (`scanpay … | head`): stop quietly, as Unix tools do.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('scanpay: dist/ is missing: run `npm run build` in the source folder first\n');
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv);
