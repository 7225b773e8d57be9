/** The messages between the gateway thread and its crypto workers. */
import { DVD1_CRYPTOGRAM_SIZE, DVD1_OPENED_SIZE } from '../../core/dvd1-layout.ts';

export type PoolTaskKind = 'open' | 'dvd1'; // DVD-1 steps 1–2 (scan) or the whole of DVD-1 (PIN)

export interface PoolTask {
  kind: PoolTaskKind;
  packed: ArrayBuffer; // count records in the layout of docs/core.md, transferred
  count: number;
}

/** Bytes of output per record for each kind. */
export const OUTPUT_SIZE: Record<PoolTaskKind, number> = { open: DVD1_OPENED_SIZE, dvd1: DVD1_CRYPTOGRAM_SIZE };

/**
 * One transferred buffer: count × OUTPUT_SIZE[kind] bytes of outputs, then count status bytes.
 * (open: PAN ‖ basic key per record; dvd1: the cryptogram per record.)
 */
export type PoolTaskResult = ArrayBuffer;
