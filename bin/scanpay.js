#!/usr/bin/env node
// The `scanpay` command: loads the TypeScript sources through tsx's loader (no separate build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
