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

export { openLoop } from './open-loop.js';
