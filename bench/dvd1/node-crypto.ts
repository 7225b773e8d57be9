/** The node:crypto anchor is the baseline engine's DVD-1 (bench/baseline): one implementation, benchmarked and served. */
export { dvd1BatchPacked, dvd1CodeBatchPacked, dvd1EnrolBatchPacked, dvd1OpenBatchPacked, run } from '../baseline/node-crypto-dvd1.ts';
