#!/usr/bin/env node
// The `scanpay` command: loads the TypeScript sources through tsx's loader (no separate build step).
import { register } from 'tsx/esm/api';

// Output piped into a reader that stops early (`scanpay … | head`): stop quietly, as Unix tools do.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
