import type { Logger } from './logger.js';

export interface BackgroundLoop {
  /**
   * Runs the next round now instead of waiting for the interval (e.g. right after an incident opens). Resolves once a
   * round that started after the call has finished, or the loop has stopped; callers that only nudge ignore it.
   */
  wake(): Promise<void>;
  /** Stops scheduling and waits for the round in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `round` every `intervalMs`, never two at once. When a round reports more work (`true`), the next starts at once.
 * The deadlines themselves live in the database; this loop only decides when to look.
 */
export function startBackgroundLoop(name: string, intervalMs: number, round: () => Promise<boolean>, logger: Logger): BackgroundLoop {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  let again = false;
  // Woken callers waiting for the next round to start; that round settles them when it ends.
  let waiting: (() => void)[] = [];

  const run = () => {
    timer = null;
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    const settles = waiting;
    waiting = [];
    running = (async () => {
      let more = false;
      try {
        more = await round();
      } catch (error) {
        logger.warn({ err: error, loop: name }, 'background round failed; retrying next interval');
      }
      running = null;
      for (const settle of settles) settle();
      if (stopped) return;
      if (more || again) {
        again = false;
        setImmediate(run);
      } else {
        timer = setTimeout(run, intervalMs);
      }
    })();
  };
  timer = setTimeout(run, 0);

  return {
    wake() {
      if (stopped) return Promise.resolve();
      const ran = new Promise<void>((resolve) => waiting.push(resolve));
      if (running) {
        again = true;
        return ran;
      }
      if (timer) clearTimeout(timer);
      timer = setTimeout(run, 0);
      return ran;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      for (const settle of waiting.splice(0)) settle();
    },
  };
}
