/** /healthz (the process answers), /readyz (store and crypto pool usable), /metrics (Prometheus). */
import type { Store } from '../../issuer/store/types.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { text, type HttpRoute } from './types.ts';

export function opsRoutes(opts: { store: Store; metrics: GatewayMetrics; poolReady: () => boolean; draining: () => boolean }): HttpRoute[] {
  return [
    { method: 'get', pattern: '/healthz', handler: async () => text(200, 'ok\n') },
    {
      method: 'get',
      pattern: '/readyz',
      async handler() {
        let store = 'ok';
        try {
          await opts.store.ping();
        } catch {
          store = 'unreachable';
        }
        const pool = opts.poolReady() ? 'ok' : 'down';
        const ready = store === 'ok' && pool === 'ok' && !opts.draining();
        return text(ready ? 200 : 503, `${JSON.stringify({ ready, store, pool, draining: opts.draining(), storeKind: opts.store.description })}\n`, 'application/json');
      },
    },
    {
      method: 'get',
      pattern: '/metrics',
      async handler() {
        return text(200, await opts.metrics.registry.metrics(), opts.metrics.registry.contentType);
      },
    },
  ];
}
