import { describe, expect, it } from 'vitest';
import { startBackgroundLoop } from '../../src/background-loop.js';
import { createLogger } from '../../src/logger.js';

const logger = createLogger('silent');
const HOUR = 3_600_000;

describe('a background loop woken by hand', () => {
  it('resolves wake() once a round that started after the call has finished', async () => {
    const seen: number[] = [];
    let value = 0;
    const loop = startBackgroundLoop('test', HOUR, async () => {
      seen.push(value);
      return false;
    }, logger);
    try {
      await loop.wake();
      value = 1;
      await loop.wake();
      expect(seen.at(-1)).toBe(1);
    } finally {
      await loop.stop();
    }
  });

  it('does not count the round already running when woken: it waits for the next one', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const finished: number[] = [];
    let rounds = 0;
    const loop = startBackgroundLoop('test', HOUR, async () => {
      const n = ++rounds;
      if (n === 1) await gate;
      finished.push(n);
      return false;
    }, logger);
    try {
      while (rounds === 0) await new Promise((r) => setTimeout(r, 1));
      let woke = false;
      const woken = loop.wake().then(() => (woke = true));
      await new Promise((r) => setTimeout(r, 20));
      expect(woke).toBe(false);
      release();
      await woken;
      expect(finished).toEqual([1, 2]);
    } finally {
      await loop.stop();
    }
  });

  it('settles a pending wake() when the loop stops, and answers at once after', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let rounds = 0;
    const loop = startBackgroundLoop('test', HOUR, async () => {
      rounds++;
      await gate;
      return false;
    }, logger);
    while (rounds === 0) await new Promise((r) => setTimeout(r, 1));
    const pending = loop.wake();
    const stopped = loop.stop();
    release();
    await stopped;
    await pending;
    await loop.wake();
    expect(rounds).toBe(1);
  });
});
