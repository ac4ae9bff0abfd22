import http from 'node:http';
import { asksForHelp } from './help-flag.js';

const USAGE = 'usage: runbook-router sink [PORT]   (prints every notification POSTed to it; PORT defaults to 9099, the shipped matrix\'s)';

/**
 * `runbook-router sink [PORT]`: a local receiver that prints every notification it gets. The shipped matrix pages
 * contacts at http://127.0.0.1:9099/..., so a newcomer can watch escalations arrive without a real Slack or pager.
 */
export function runSink(args: string[], io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  if (asksForHelp(args)) {
    io.out(USAGE);
    return Promise.resolve(0);
  }
  const port = Number(args[0] ?? 9099);
  if (args.length > 1 || !Number.isInteger(port) || port < 1 || port > 65535) {
    io.err(`sink: expected a port from 1 to 65535, got "${args.join(' ')}"\n${USAGE}`);
    return Promise.resolve(2);
  }
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let summary = Buffer.concat(chunks).toString('utf8');
        try {
          const body = JSON.parse(summary) as { text?: string; title?: string; level?: number; incidentId?: number; url?: string; type?: string };
          summary = body.text ?? `${body.type ?? 'notification'}: ${body.title ?? ''}${body.level ? ` (level ${body.level})` : ''} ${body.url ?? ''}`;
        } catch {
          // not JSON: print as received
        }
        io.out(`${new Date().toISOString()} ${req.method} ${req.url} [${req.headers['idempotency-key'] ?? '-'}] ${summary}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    server.on('error', (error) => {
      io.err(`sink: ${error.message}`);
      resolve(1);
    });
    server.listen(port, '127.0.0.1', () => io.out(`sink listening on http://127.0.0.1:${port}/ (Ctrl-C to stop)`));
    process.once('SIGINT', () => server.close(() => resolve(0)));
    process.once('SIGTERM', () => server.close(() => resolve(0)));
  });
}
