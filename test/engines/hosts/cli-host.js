// @ts-nocheck — runs under Deno and Bun, whose globals Node's types do not know
/**
 * Host for the probe and the engine bench in Deno (V8, another host), Bun (JavaScriptCore) and plain
 * Node (the bench's reference, in a process of its own like the others): loads the
 * compiled browser entry of `scanpay/core` (dist/core/browser.js, no Node APIs) and hands it the .wasm bytes.
 *   deno run --allow-read cli-host.js probe <simd|scalar> <jobs.txt>
 *   bun cli-host.js bench <config.json>            (bench/engines/workload.js; under Node with tsx, for the anchor)
 */
const host = globalThis.Deno ? 'deno' : globalThis.Bun ? 'bun' : 'node';
const fs = host === 'node' ? await import('node:fs/promises') : null;
const args = host === 'deno' ? Deno.args : process.argv.slice(2);
const readBytes = {
  deno: (url) => Deno.readFile(url),
  bun: async (url) => new Uint8Array(await Bun.file(url.pathname).arrayBuffer()),
  node: async (url) => new Uint8Array(await fs.readFile(url)),
}[host];
const cwd = host === 'deno' ? Deno.cwd() : process.cwd();
const readText = async (path) => new TextDecoder().decode(await readBytes(new URL(path, `file://${cwd}/`)));

const scanpayCore = await import('../../../dist/core/browser.js');
const { loadCore, coreWasmUrl } = scanpayCore;
const coreOf = async (build) => loadCore(await readBytes(coreWasmUrl(build)));

const [mode, ...rest] = args;
let out;
if (mode === 'probe') {
  const { runJobs } = await import('../probe.js');
  out = runJobs(await coreOf(rest[0]), await readText(rest[1]), scanpayCore);
} else if (mode === 'bench') {
  const { benchEngine } = await import('../../../bench/engines/workload.js');
  const config = JSON.parse(await readText(rest[0]));
  out = `${JSON.stringify(await benchEngine(config, { coreOf }))}\n`;
} else {
  throw new Error(`cli-host: unknown mode ${mode}`);
}
if (host === 'deno') await Deno.stdout.write(new TextEncoder().encode(out));
else if (host === 'bun') await Bun.write(Bun.stdout, out);
else process.stdout.write(out);
