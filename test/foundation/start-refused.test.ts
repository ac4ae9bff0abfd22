import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runbooksWithMatrix, sinkMatrix } from '../support/runbooks-dir.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { ROOT, SHIPPED_RUNBOOKS } from '../support/test-service.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

function serve(runbooksDir: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/runbook-router.js'), 'serve'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', RUNBOOKS_DIR: runbooksDir, ...(database.url ? { DATABASE_URL: database.url } : { DATA_DIR: database.dataDir }), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, output });
    });
  });
}

describe('serve with a matrix.yml that does not load', () => {
  it('refuses to start, saying where the matrix is wrong, instead of running with nobody to page', async () => {
    // The MON-005 alert's chain names a contact that does not exist (line 13 of this matrix).
    const matrix = sinkMatrix('http://127.0.0.1:9', { ackWithin: '5m' }).replace('escalation: [level-one, level-two]', 'escalation: [level-one, level-tow]');
    expect(matrix).toContain('level-tow');
    const dir = await runbooksWithMatrix(matrix);
    const { code, output } = await serve(dir);
    expect(code).toBe(2);
    const matrixPath = path.join(dir, 'matrix.yml');
    const lineOfTypo = matrix.split('\n').findIndex((l) => l.includes('level-tow')) + 1;
    expect(output).toContain(`${matrixPath}:${lineOfTypo}: `);
    expect(output).toMatch(/level-tow/);
    expect(output).toContain('matrix.yml is invalid and no earlier version is in service, so no alert could page anyone');
  }, 40_000);

  it('refuses to start without a matrix.yml at all, naming where it looked', async () => {
    const dir = await runbooksWithMatrix('');
    await fs.rm(path.join(dir, 'matrix.yml'));
    const { code, output } = await serve(dir);
    expect(code).toBe(2);
    expect(output).toContain(`${path.join(dir, 'matrix.yml')}: not found (RUNBOOKS_DIR=${dir}); without the incident response matrix no alert could page anyone`);
  }, 40_000);
});

describe('serve on a port that is taken', () => {
  it('says so in one line, exits 2 and leaves the data directory unlocked for the next start', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const { code, output } = await serve(SHIPPED_RUNBOOKS, { PORT: String(port) });
      expect(code).toBe(2);
      expect(output.trim().split('\n').at(-1)).toBe(`PORT: 127.0.0.1:${port} is already in use by another process; stop it or choose another PORT`);
      expect(output).not.toMatch(/\n\s+at /); // no stack trace
      if (!database.url) await expect(fs.access(path.join(database.dataDir, 'pglite.lock'))).rejects.toThrow();
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 40_000);
});

describe('serve with a database it cannot reach', () => {
  it('says the database could not be reached and where to look, not that a migration failed', async () => {
    const { code, output } = await serve(SHIPPED_RUNBOOKS, { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' });
    expect(code).toBe(1);
    expect(output.trim().split('\n').at(-1)).toMatch(/^could not start: the database could not be reached \(.*ECONNREFUSED.*\); check DATABASE_URL and that the server is up$/);
  }, 40_000);
});

describe('serve with a RESPONDERS entry whose hash does not parse', () => {
  it('refuses at once with the reason, exit 2, instead of hanging with the database open', async () => {
    const started = Date.now();
    const { code, output } = await serve(SHIPPED_RUNBOOKS, { RESPONDERS: 'dana:scrypt$3$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==' });
    expect(code).toBe(2);
    expect(output).toContain('RESPONDERS: the hash of "dana" is invalid: N must be a power of two');
    // Before, it kept running not listening (embedded) or exited only after ~10 s (PostgreSQL).
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});
