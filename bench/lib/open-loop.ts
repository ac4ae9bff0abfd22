import net from 'node:net';
import { HTTPParser } from 'http-parser-js';
import type { LoadResult, RequestSpec } from './load.js';

export interface OpenLoopOptions {
  rate: number;
  durationS: number;
  expect: number;
  offset?: number;
  maxSockets?: number;
  /** How long to wait for the last answers after the last request was scheduled; later ones count as errors. */
  drainS?: number;
  /** A cheap GET sent once on each connection opened before the clock starts. */
  warmPath?: string;
  warmSockets?: number;
  /** Seconds at the full rate before the measured part, without a pause. */
  rampS?: number;
}

interface Job {
  i: number;
  scheduledAt: number;
}

interface Connection {
  socket: net.Socket;
  parser: InstanceType<typeof HTTPParser>;
  job: Job | null;
  status: number;
  alive: boolean;
}

function percentile(sorted: Float64Array, p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Open loop: request i is sent at start + i/rate whatever happened to the earlier ones, and its latency counts from
 * that scheduled time, so a server that stalls is charged for the queue it builds (no coordinated omission).
 *
 * The generator shares the two cores with what it measures, so it is built to be cheap: keep-alive sockets of its own
 * (reused LIFO, so the busy ones stay few and hot), each request written as one prebuilt string in one write, answers
 * parsed by http-parser-js (the parser autocannon uses). node's http client cost ~95 µs of CPU per request at 5,000/s
 * here; this about a third of that. A request with no free connection waits for one (a new one is opened up to
 * `maxSockets`), its clock already running.
 */
export async function openLoop(url: string, spec: RequestSpec, opts: OpenLoopOptions): Promise<LoadResult> {
  const target = new URL(url);
  const host = target.hostname;
  const port = Number(target.port);
  const maxSockets = opts.maxSockets ?? 512;
  const ramp = Math.round(opts.rate * (opts.rampS ?? 0));
  const total = ramp + Math.round(opts.rate * opts.durationS);
  const interval = 1000 / opts.rate;
  const offset = opts.offset ?? 0;

  const headers = { ...(spec.body ? { 'content-type': 'application/json' } : {}), ...(spec.headers ?? {}) };
  const head = `${spec.method} ${spec.path} HTTP/1.1\r\nHost: ${target.host}\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}`;
  const requestText = (i: number) => {
    const body = spec.body?.(offset + i);
    return body === undefined ? `${head}\r\n` : `${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  };

  const latencies = new Float64Array(total);
  const statuses: Record<string, number> = {};
  let done = 0;
  let answered = 0;
  let failed = 0;
  let lastEnd = 0;
  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => (finish = resolve));

  const settle = (job: Job, status: number | null) => {
    if (job.i < 0) return;
    const code = status === null ? 'socket error' : String(status);
    statuses[code] = (statuses[code] ?? 0) + 1;
    if (job.i >= ramp) lastEnd = performance.now();
    if (status === opts.expect && job.i >= ramp) latencies[answered++] = performance.now() - job.scheduledAt;
    else if (status !== opts.expect) failed++;
    if (++done === total) finish();
  };

  const idle: Connection[] = [];
  const waiting: Job[] = [];
  const all = new Set<Connection>();
  let opening = 0;
  let closing = false;

  const send = (conn: Connection, job: Job) => {
    conn.job = job;
    conn.socket.write(job.i < 0 ? `GET ${opts.warmPath ?? '/'} HTTP/1.1\r\nHost: ${target.host}\r\n\r\n` : requestText(job.i));
  };
  const release = (conn: Connection) => {
    if (!conn.alive) return;
    const next = waiting.shift();
    if (next) send(conn, next);
    else idle.push(conn);
  };
  const connect = (): Promise<Connection> =>
    new Promise((resolve, reject) => {
      opening++;
      const socket = net.connect({ host, port });
      socket.setNoDelay(true);
      const conn: Connection = { socket, parser: new HTTPParser(HTTPParser.RESPONSE), job: null, status: 0, alive: true };
      conn.parser[HTTPParser.kOnHeadersComplete] = (info: { statusCode: number }) => {
        conn.status = info.statusCode;
      };
      conn.parser[HTTPParser.kOnMessageComplete] = () => {
        const job = conn.job;
        conn.job = null;
        if (job) settle(job, conn.status);
        release(conn);
      };
      socket.on('data', (chunk: Buffer) => {
        const r = conn.parser.execute(chunk);
        if (r instanceof Error) socket.destroy(r);
      });
      let connected = false;
      socket.once('connect', () => {
        connected = true;
        opening--;
        all.add(conn);
        resolve(conn);
      });
      const gone = (error?: Error) => {
        if (!conn.alive) return;
        conn.alive = false;
        all.delete(conn);
        const at = idle.indexOf(conn);
        if (at >= 0) idle.splice(at, 1);
        if (conn.job && !closing) settle(conn.job, null);
        conn.job = null;
        if (!connected) {
          opening--;
          reject(error ?? new Error('connection closed before it opened'));
        }
        // Whatever waits for a connection gets a new one.
        if (waiting.length && all.size + opening < maxSockets) grow();
      };
      socket.on('error', gone);
      socket.on('close', () => gone());
    });
  const grow = () => {
    connect().then(release, () => {
      // A refused connection fails the request it was opened for; the next ones open their own.
      const job = waiting.shift();
      if (job) settle(job, null);
    });
  };
  const dispatch = (job: Job) => {
    const conn = idle.pop();
    if (conn) return send(conn, job);
    waiting.push(job);
    if (all.size + opening < maxSockets) grow();
  };

  // A sender keeps its connections: open some before the clock starts, so the first second does not measure TCP set-up.
  const warmSockets = opts.warmSockets ?? Math.min(256, Math.ceil(opts.rate / 50));
  const warm = await Promise.all(Array.from({ length: warmSockets }, () => connect().catch(() => null)));
  await Promise.all(
    warm.map(
      (conn) =>
        new Promise<void>((resolve) => {
          if (!conn) return resolve();
          const complete = conn.parser[HTTPParser.kOnMessageComplete];
          conn.parser[HTTPParser.kOnMessageComplete] = () => {
            conn.parser[HTTPParser.kOnMessageComplete] = complete;
            conn.job = null;
            resolve();
          };
          conn.socket.once('close', () => resolve());
          send(conn, { i: -1, scheduledAt: 0 });
        }),
    ),
  );
  for (const conn of warm) if (conn?.alive) idle.push(conn);

  const start = performance.now() + 5;
  const measuredFrom = start + ramp * interval;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        dispatch({ i: next, scheduledAt: start + next * interval });
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
  closing = true;
  for (const conn of all) conn.socket.destroy();
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
