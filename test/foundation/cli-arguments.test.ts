// The real CLI (bin/runbook-router.js) with arguments it does not take: it prints the command's usage and exits 2
// without doing anything (no migration, no ./data, no hash, no delivery, no service); `--help` prints the usage and
// exits 0. A bad setting is `config: NAME: message` and exit 2, never a stack trace. The documented invocations still work.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/test-service.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let cwd: string;
beforeAll(async () => {
  // An empty working directory: the default DATA_DIR (./data) would appear here if a command touched the database.
  cwd = await fs.mkdtemp(path.join(os.tmpdir(), 'rr-cli-'));
});
afterAll(async () => {
  if (cwd) await fs.rm(cwd, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}, input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/runbook-router.js'), ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(input);
    // A command that wrongly went ahead (serve) is stopped, and the test fails on its exit code.
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

const noDataDir = () => expect(fs.access(path.join(cwd, 'data'))).rejects.toThrow();
const noStackTrace = (r: Run) => expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);

/** A stand-in for the service that counts the webhook deliveries `demo` posts. */
async function fakeService(): Promise<{ url: string; posts: string[]; close(): Promise<void> }> {
  const posts: string[] = [];
  const server = http.createServer((req, res) => {
    posts.push(req.url ?? '');
    req.resume().on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{"incidents":[1]}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, posts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('migrate', () => {
  it('--help prints its usage and exits 0 without migrating or creating ./data', async () => {
    const r = await cli(['migrate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: runbook-router migrate/);
    expect(r.stdout).not.toMatch(/applied|up to date/);
    await noDataDir();
  });

  it('an unknown option or an argument: usage, exit 2, nothing done', async () => {
    for (const args of [['migrate', '--dry-run'], ['migrate', 'now']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('usage: runbook-router migrate');
      expect(r.stdout).toBe('');
      await noDataDir();
    }
  });

  it('a bad setting: config: NAME: message, exit 2', async () => {
    const r = await cli(['migrate'], { PORT: 'abc' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^config: PORT: /m);
    noStackTrace(r);
    await noDataDir();
  });
});

describe('hash-password', () => {
  it('--help prints its usage and exits 0, hashing nothing', async () => {
    const r = await cli(['hash-password', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: runbook-router hash-password/);
    expect(r.stdout).not.toContain('scrypt$');
  });

  it('an unknown option or a second argument: usage, exit 2, no hash', async () => {
    for (const args of [['hash-password', '--rounds=3'], ['hash-password', 'a', 'b']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('usage: runbook-router hash-password');
      expect(r.stdout).toBe('');
    }
  });

  it('still hashes the argument; a password starting with - comes after --', async () => {
    for (const args of [['hash-password', 'p4ss'], ['hash-password', '--', '-p4ss']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout.trim()).toMatch(/^scrypt\$32768\$8\$1\$/);
    }
  });
});

describe('demo', () => {
  it('--help prints its usage and exits 0 without posting', async () => {
    const r = await cli(['demo', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: runbook-router demo/);
  });

  it('a mistyped option, a second URL or a URL that is not one: usage, exit 2, nothing posted', async () => {
    const service = await fakeService();
    try {
      for (const args of [['demo', '--keepopen', service.url], ['demo', service.url, service.url], ['demo', 'localhost:3000']]) {
        const r = await cli(args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr).toContain('usage: runbook-router demo');
        noStackTrace(r);
      }
      expect(service.posts).toEqual([]);
    } finally {
      await service.close();
    }
  });

  it('a bad setting: config: NAME: message, exit 2, no stack trace, nothing posted', async () => {
    const service = await fakeService();
    try {
      const port = await cli(['demo'], { PORT: 'abc' });
      expect(port.code).toBe(2);
      expect(port.stderr).toMatch(/^config: PORT: /m);
      noStackTrace(port);
      const db = await cli(['demo', service.url], { DATABASE_URL: 'x' });
      expect(db.code).toBe(2);
      expect(db.stderr).toMatch(/^config: DATABASE_URL: /m);
      noStackTrace(db);
      expect(service.posts).toEqual([]);
    } finally {
      await service.close();
    }
  });

  it('still posts every example, and without the recoveries with --keep-open', async () => {
    const service = await fakeService();
    try {
      const all = await cli(['demo', service.url]);
      expect(all.code, all.stderr).toBe(0);
      expect(service.posts).toHaveLength(9);
      const open = await cli(['demo', `${service.url}/`, '--keep-open']);
      expect(open.code, open.stderr).toBe(0);
      expect(service.posts.slice(9)).toEqual(['/webhooks/alertmanager', '/webhooks/datadog', '/webhooks/grafana', '/webhooks/pagerduty', '/webhooks/pagerduty']);
      expect(open.stdout).toContain(`Open ${service.url}/ to see the incidents.`);
    } finally {
      await service.close();
    }
  });
});

describe('serve', () => {
  it('--help prints its usage and exits 0 without starting', async () => {
    const r = await cli(['serve', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: runbook-router serve/);
    await noDataDir();
  });

  it('an option it does not take (--port 4000): usage, exit 2, not started', async () => {
    const r = await cli(['serve', '--port', '4000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: runbook-router serve');
    expect(r.stderr).toContain('PORT');
    await noDataDir();
  });
});

describe('lint, report and sink', () => {
  it('--help prints the usage and exits 0, doing nothing', async () => {
    for (const command of ['lint', 'report', 'sink']) {
      const r = await cli([command, '--help']);
      expect(r.code, command).toBe(0);
      expect(r.stdout, command).toMatch(new RegExp(`^usage: runbook-router ${command}`));
    }
    await noDataDir();
  });

  it('sink refuses a second argument with its usage', async () => {
    const r = await cli(['sink', '9099', 'extra']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: runbook-router sink');
  });
});
