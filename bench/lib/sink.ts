import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  incidentId: number | null;
  at: number;
}

/** A lean notification receiver: answers 200 at once and keeps the path, the incident id and the arrival time. */
export async function startSink() {
  let received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let incidentId: number | null = null;
      try {
        incidentId = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { incidentId?: number }).incidentId ?? null;
      } catch {
        // a slack-style body: no id
      }
      received.push({ path: req.url ?? '', incidentId, at: Date.now() });
      res.statusCode = 200;
      res.end('{}');
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received: () => received,
    reset() {
      received = [];
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Sink = Awaited<ReturnType<typeof startSink>>;
