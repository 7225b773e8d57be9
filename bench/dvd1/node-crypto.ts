/** The node:crypto anchor is the gateway's baseline engine: one implementation, benchmarked and served. */
export { dvd1BatchPacked, dvd1OpenBatchPacked, run } from '../../gateway/baseline/node-crypto-dvd1.ts';
