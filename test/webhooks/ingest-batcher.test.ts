import { describe, expect, it } from 'vitest';
import { createIngestBatcher } from '../../src/incidents/ingest-batcher.js';
import type { Delivery } from '../../src/incidents/receive.js';

// The batcher alone, with a commit that records what it was handed: which deliveries shared a transaction.
function recording(options: { maxWaitMs: number; quietMs?: number; maxSize: number }) {
  const batches: string[][] = [];
  const batcher = createIngestBatcher({
    ...options,
    concurrency: 1,
    commit: async (deliveries) => {
      batches.push(deliveries.map((d) => d.deliveryKey));
      return deliveries.map(() => ({ incidentIds: [], duplicate: false }));
    },
  });
  return { batches, submit: (key: string) => batcher.submit({ deliveryKey: key } as Delivery), drain: () => batcher.drain() };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('group commit', () => {
  it('sends deliveries that arrived together as soon as arrivals stop, not after the longest wait', async () => {
    // With a one-minute wait and no quiet rule this would time out.
    const b = recording({ maxWaitMs: 60_000, quietMs: 50, maxSize: 100 });
    await Promise.all(['a', 'b', 'c', 'd'].map(b.submit));
    expect(b.batches).toEqual([['a', 'b', 'c', 'd']]);
  });

  it('keeps a steady stream in one batch while deliveries keep arriving', async () => {
    const b = recording({ maxWaitMs: 3_000, quietMs: 1_000, maxSize: 100 });
    const answers: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      answers.push(b.submit(`s${i}`));
      await pause(20);
    }
    await Promise.all(answers);
    expect(b.batches).toEqual([Array.from({ length: 10 }, (_, i) => `s${i}`)]);
  });

  it('sends a batch once its oldest delivery has waited the longest wait, even while deliveries keep arriving', async () => {
    const b = recording({ maxWaitMs: 200, quietMs: 10_000, maxSize: 1_000 });
    const answers: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      answers.push(b.submit(`w${i}`));
      await pause(20);
    }
    await Promise.all(answers);
    expect(b.batches.length).toBeGreaterThanOrEqual(2);
    expect(b.batches.flat()).toEqual(Array.from({ length: 30 }, (_, i) => `w${i}`));
  });

  it('never puts more than maxSize deliveries in one transaction', async () => {
    const b = recording({ maxWaitMs: 60_000, quietMs: 30_000, maxSize: 3 });
    const answers = ['1', '2', '3', '4', '5', '6'].map(b.submit);
    await Promise.all(answers);
    expect(b.batches).toEqual([
      ['1', '2', '3'],
      ['4', '5', '6'],
    ]);
  });

  it('answers each delivery with its own outcome, in order', async () => {
    const batcher = createIngestBatcher({
      maxWaitMs: 1_000,
      quietMs: 10,
      maxSize: 100,
      concurrency: 2,
      commit: async (deliveries) => deliveries.map((d) => ({ incidentIds: [Number(d.deliveryKey)], duplicate: false })),
    });
    const outcomes = await Promise.all(['7', '8', '9'].map((k) => batcher.submit({ deliveryKey: k } as Delivery)));
    expect(outcomes.map((o) => o.incidentIds)).toEqual([[7], [8], [9]]);
    await batcher.drain();
  });
});
