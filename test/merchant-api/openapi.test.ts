/**
 * docs/merchant-api.openapi.json is the document protocol/merchant-api-openapi.ts generates from the schemas the
 * gateway validates with (`npm run openapi` writes it), every `$ref` in it resolves, it has an operation for
 * every route the gateway serves and no other, and each error code the API has is declared somewhere.
 * docs/merchant-api.md names every route and every code. (That the server's real answers are the ones the
 * document declares is checked on every request the merchant API tests make: test/support/merchant-api.ts.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { merchantApiRoutes } from '../../gateway/merchant-api/routes.ts';
import { MERCHANT_API_CODES } from '../../protocol/merchant-api.ts';
import { merchantApiOpenApiText } from '../../protocol/merchant-api-openapi.ts';
import { MERCHANT_API_ROUTES } from '../../protocol/merchant-api-schemas.ts';

const committed = readFileSync(new URL('../../docs/merchant-api.openapi.json', import.meta.url), 'utf8');
const guide = readFileSync(new URL('../../docs/merchant-api.md', import.meta.url), 'utf8');
const doc = JSON.parse(committed) as {
  openapi: string;
  paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown>; parameters: Record<string, unknown> };
};

describe('the OpenAPI document', () => {
  it('is current: what `npm run openapi` writes from the schemas', () => {
    expect(committed, 'docs/merchant-api.openapi.json is stale: run `npm run openapi`').toBe(merchantApiOpenApiText());
    expect(doc.openapi).toBe('3.1.0');
  });

  it('every $ref resolves inside it', () => {
    const refs = [...committed.matchAll(/"\$ref": "#\/components\/(schemas|parameters)\/([A-Za-z]+)"/g)];
    expect(refs.length).toBeGreaterThan(10);
    for (const [, kind, name] of refs) expect(doc.components[kind as 'schemas' | 'parameters'], `${kind}/${name}`).toHaveProperty(name!);
  });

  it('has an operation for every route the gateway serves, and none it does not', () => {
    const served = merchantApiRoutes({} as never).map((r) => `${r.method} ${r.pattern.replace(/:([A-Za-z]+)/g, '{$1}')}`).sort();
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`)).sort();
    expect(documented).toEqual(served);
    expect(served).toHaveLength(Object.keys(MERCHANT_API_ROUTES).length);
  });

  it('declares every error code on some route (or, for NOT_FOUND and METHOD_NOT_ALLOWED, in its description)', () => {
    const declared = new Set([...committed.matchAll(/"const": "([A-Z_]+)"/g)].map((m) => m[1]));
    const missing = MERCHANT_API_CODES.filter((code) => !declared.has(code) && !['NOT_FOUND', 'METHOD_NOT_ALLOWED'].includes(code));
    expect(missing).toEqual([]);
  });
});

describe('docs/merchant-api.md', () => {
  it('shows every route, with a curl example, and lists every error code', () => {
    for (const route of Object.values(MERCHANT_API_ROUTES)) {
      expect(guide, `${route.method} ${route.path}`).toContain(`${route.method.toUpperCase()} ${route.path}`);
    }
    expect((guide.match(/^curl /gm) ?? []).length).toBeGreaterThanOrEqual(Object.keys(MERCHANT_API_ROUTES).length);
    for (const code of MERCHANT_API_CODES) expect(guide, code).toContain(`\`${code}\``);
    expect(guide).toContain('](merchant-api.openapi.json)');
  });
});
