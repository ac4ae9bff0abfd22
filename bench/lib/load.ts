import http from 'node:http';
import autocannon from 'autocannon';

/** What one load run measured. Latencies in ms. */
export interface LoadResult {
  mode: 'closed' | 'open';
  /** Connections (closed loop) or offered requests/s (open loop). */
  level: number;
  durationS: number;
  /** Answers with the expected status. */
  ok: number;
  /** Other statuses, socket errors, timeouts, and (open loop) requests never answered. */
  errors: number;
  statuses: Record<string, number>;
  /** ok / duration. */
  rate: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  headers?: Record<string, string>;
  /** The body of the n-th request (n counts from `offset`). */
  body?: (n: number) => string;
}

/** Closed loop with autocannon: `connections` clients each send the next request when the previous answer arrived. */
export async function closedLoop(url: string, spec: RequestSpec, opts: { connections: number; durationS: number; expect: number; offset?: number; timeoutS?: number }): Promise<LoadResult> {
  let n = opts.offset ?? 0;
  const headers = { ...(spec.body ? { 'content-type': 'application/json' } : {}), ...(spec.headers ?? {}) };
  const result = await autocannon({
    url,
    connections: opts.connections,
    duration: opts.durationS,
    timeout: opts.timeoutS ?? 10,
    requests: [
      {
        method: spec.method,
        path: spec.path,
        headers,
        ...(spec.body ? { setupRequest: (req: any) => ({ ...req, body: spec.body!(n++) }) } : {}),
      },
    ],
  });
  const statuses: Record<string, number> = {};
  for (const [code, v] of Object.entries((result as any).statusCodeStats ?? {})) statuses[code] = Number((v as { count: number }).count);
  const ok = statuses[String(opts.expect)] ?? 0;
  const other = Object.entries(statuses).filter(([c]) => c !== String(opts.expect)).reduce((s, [, v]) => s + v, 0);
  return {
    mode: 'closed',
    level: opts.connections,
    durationS: result.duration,
    ok,
    errors: other + result.errors + result.timeouts,
    statuses,
    rate: ok / result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Open loop: request i is sent at start + i/rate whatever happened to the earlier ones, over a keep-alive pool, and its
 * latency counts from that scheduled time — so a server that stalls is charged for the queue it builds (no coordinated
 * omission). Requests still unanswered `drainS` after the last one was scheduled are counted as errors.
 */
export async function openLoop(
  url: string,
  spec: RequestSpec,
  opts: { rate: number; durationS: number; expect: number; offset?: number; maxSockets?: number; drainS?: number; warmPath?: string; warmSockets?: number; rampS?: number },
): Promise<LoadResult> {
  const target = new URL(url);
  // LIFO keeps the busy sockets few and hot; the pool grows only when that many requests are outstanding at once.
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 512, scheduling: 'lifo' });
  // The schedule runs `rampS` at the full rate before the measured part, without a pause: what is measured is the steady
  // state at that rate, not the first second of a load that starts from nothing.
  const ramp = Math.round(opts.rate * (opts.rampS ?? 0));
  const total = ramp + Math.round(opts.rate * opts.durationS);
  const interval = 1000 / opts.rate;
  const latencies = new Float64Array(total);
  const statuses: Record<string, number> = {};
  let done = 0;
  let answered = 0;
  let failed = 0;
  let lastEnd = 0;
  const baseHeaders = { ...(spec.body ? { 'content-type': 'application/json' } : {}), ...(spec.headers ?? {}) };
  const offset = opts.offset ?? 0;

  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => (finish = resolve));
  const settle = () => {
    if (++done === total) finish();
  };

  const send = (i: number, scheduledAt: number) => {
    const body = spec.body?.(offset + i);
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: spec.method,
        path: spec.path,
        agent,
        headers: body === undefined ? baseHeaders : { ...baseHeaders, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          if (i >= ramp) lastEnd = performance.now();
          const code = String(res.statusCode);
          statuses[code] = (statuses[code] ?? 0) + 1;
          if (i < ramp) {
            if (res.statusCode !== opts.expect) failed++;
          } else if (res.statusCode === opts.expect) latencies[answered++] = performance.now() - scheduledAt;
          else failed++;
          settle();
        });
      },
    );
    req.on('error', () => {
      failed++;
      settle();
    });
    req.end(body);
  };

  // A sender keeps its connections: open some before the clock starts, so the first second does not measure TCP set-up.
  const warmSockets = opts.warmSockets ?? Math.min(256, Math.ceil(opts.rate / 50));
  await Promise.all(
    Array.from(
      { length: warmSockets },
      () =>
        new Promise<void>((resolve) => {
          const req = http.get({ host: target.hostname, port: target.port, path: opts.warmPath ?? '/', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve());
          });
          req.on('error', () => resolve());
        }),
    ),
  );

  const start = performance.now() + 5;
  const measuredFrom = start + ramp * interval;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        send(next, start + next * interval);
        next++;
      }
      if (next < total) setTimeout(tick, Math.max(0, Math.min(1, start + next * interval - performance.now())));
      else resolve();
    };
    setTimeout(tick, 5);
  });
  const drainMs = (opts.drainS ?? 10) * 1000;
  const timedOut = await Promise.race([allDone.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), drainMs).unref())]);
  const unanswered = total - done;
  agent.destroy();
  const elapsedS = (performance.now() - measuredFrom) / 1000;
  const sorted = latencies.slice(0, answered).sort();
  return {
    mode: 'open',
    level: opts.rate,
    durationS: timedOut ? elapsedS : opts.durationS,
    ok: answered,
    errors: failed + unanswered,
    statuses: unanswered ? { ...statuses, unanswered } : statuses,
    rate: answered / Math.max(opts.durationS, (lastEnd - measuredFrom) / 1000),
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : 0,
  };
}
