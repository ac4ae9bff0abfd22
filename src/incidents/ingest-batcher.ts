import { isTransientDbError } from '../db/transient-error.js';
import type { Delivery, DeliveryOutcome } from './receive.js';

interface Pending {
  /** performance.now() when it was queued. */
  at: number;
  delivery: Delivery;
  resolve: (outcome: DeliveryOutcome) => void;
  reject: (error: unknown) => void;
}

export interface IngestBatcherOptions {
  /** Applies deliveries in one transaction and returns one outcome per delivery, in order; resolves only after commit. */
  commit: (deliveries: Delivery[]) => Promise<DeliveryOutcome[]>;
  maxWaitMs: number;
  /** A batch also leaves once nothing new has arrived for this long; a third of maxWaitMs unless given. */
  quietMs?: number;
  maxSize: number;
  /** Transactions in flight at once; more than one only helps on a real PostgreSQL with several connections. */
  concurrency: number;
  onBatch?: (size: number) => void;
}

export interface IngestBatcher {
  submit(delivery: Delivery): Promise<DeliveryOutcome>;
  /** Waits until everything submitted so far is committed or failed. */
  drain(): Promise<void>;
}

/**
 * Group commit: deliveries that arrive together share one transaction. A batch leaves when its oldest delivery has waited
 * `maxWaitMs`, when nothing new has arrived for a third of that, or when `maxSize` deliveries are queued, and at most
 * `concurrency` transactions are in flight; what queues up while they are busy leaves when one is free and one of
 * those holds. A batch has a fixed cost (a few
 * round trips, planning, the commit's flush) far above a delivery's, so under load this keeps batches large and the
 * service efficient, at a bounded wait when traffic is light.
 * Each caller's promise settles only after the commit that holds its delivery. When a batch fails for a reason other than
 * the database being unavailable, its deliveries are retried one by one so one bad delivery never fails its neighbours.
 */
export function createIngestBatcher(options: IngestBatcherOptions): IngestBatcher {
  let queue: Pending[] = [];
  let timer: NodeJS.Timeout | null = null;
  let inFlight = 0;
  let lastArrival = 0;
  const idle: (() => void)[] = [];
  // Senders that wait for their answer (a fixed set of connections) have all sent once arrivals stop: waiting the
  // rest of maxWaitMs then would only delay them. Steady traffic never goes this quiet and fills the whole wait.
  const quietMs = options.quietMs ?? options.maxWaitMs / 3;

  const schedule = () => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    while (queue.length && inFlight < options.concurrency) {
      const now = performance.now();
      const waited = now - queue[0]!.at;
      const quiet = now - lastArrival;
      if (queue.length < options.maxSize && waited < options.maxWaitMs && quiet < quietMs) {
        timer = setTimeout(schedule, Math.max(0, Math.min(options.maxWaitMs - waited, quietMs - quiet)));
        return;
      }
      flush();
    }
  };

  const flush = () => {
    const batch = queue.length <= options.maxSize ? queue : queue.slice(0, options.maxSize);
    queue = queue.length <= options.maxSize ? [] : queue.slice(batch.length);
    inFlight++;
    options.onBatch?.(batch.length);
    void run(batch).finally(() => {
      inFlight--;
      if (!queue.length && inFlight === 0) {
        for (const wake of idle.splice(0)) wake();
      }
      schedule();
    });
  };

  const run = async (batch: Pending[]) => {
    try {
      const outcomes = await options.commit(batch.map((p) => p.delivery));
      batch.forEach((p, i) => p.resolve(outcomes[i]!));
    } catch (error) {
      if (batch.length === 1 || isTransientDbError(error)) {
        for (const p of batch) p.reject(error);
        return;
      }
      for (const p of batch) {
        try {
          const [outcome] = await options.commit([p.delivery]);
          p.resolve(outcome!);
        } catch (single) {
          p.reject(single);
        }
      }
    }
  };

  return {
    submit(delivery) {
      return new Promise<DeliveryOutcome>((resolve, reject) => {
        lastArrival = performance.now();
        queue.push({ at: lastArrival, delivery, resolve, reject });
        if (queue.length === 1 || queue.length >= options.maxSize) schedule();
      });
    },
    drain() {
      if (!queue.length && inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
