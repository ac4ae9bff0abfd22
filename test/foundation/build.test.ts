import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { ROOT } from '../support/test-service.js';
import { wireBody } from '../support/webhook-payloads.js';

const run = promisify(execFile);

/**
 * What `npm start` runs: the compiled build. It is laid out in a directory of its own with no src/ beside it, so a
 * fallback to the TypeScript sources (bin/runbook-router.js's other path) cannot make this pass.
 */
describe('the compiled build (dist/)', () => {
  let dir: string;
  let database: TestDatabase;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rr-build-'));
    await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(dir, 'dist')], { cwd: ROOT });
    await fs.mkdir(path.join(dir, 'bin'));
    await fs.mkdir(path.join(dir, 'test/fixtures'), { recursive: true });
    await fs.copyFile(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
    await fs.copyFile(path.join(ROOT, 'bin/runbook-router.js'), path.join(dir, 'bin/runbook-router.js'));
    for (const shared of ['node_modules', 'templates', 'static', 'runbooks', 'test/fixtures/webhooks']) await fs.symlink(path.join(ROOT, shared), path.join(dir, shared));
    database = await createTestDatabase({ empty: true });
  }, 120_000);
  afterAll(async () => {
    await database?.drop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('has no TypeScript sources to fall back to', async () => {
    await expect(fs.access(path.join(dir, 'src'))).rejects.toThrow();
    await expect(fs.access(path.join(dir, 'dist/src/cli.js'))).resolves.toBeUndefined();
    await expect(fs.access(path.join(dir, 'dist/migrations/0001_initial_schema.js'))).resolves.toBeUndefined();
    await expect(fs.access(path.join(dir, 'dist/migrations/0002_receive_firing_function.js'))).resolves.toBeUndefined();
  });

  it('lints the shipped runbooks', async () => {
    const { stdout } = await run(process.execPath, [path.join(dir, 'bin/runbook-router.js'), 'lint', 'runbooks'], { cwd: dir });
    expect(stdout).toMatch(/^0 errors, \d+ warnings? in 1\d files$/m);
  });

  it('serves: applies the compiled migrations, takes a webhook and renders the incident page from the templates', async () => {
    const port = await freePort();
    let output = '';
    const child = spawn(process.execPath, [path.join(dir, 'bin/runbook-router.js'), 'serve'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', DATA_DIR: database.dataDir, ...(database.url ? { DATABASE_URL: database.url } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const url = `http://127.0.0.1:${port}`;
    try {
      for (let i = 0; ; i++) {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${output}`);
        const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
        if (ok) break;
        if (i > 600) throw new Error(`no /healthz after 60 s:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(output).toMatch(/"applied":\["0001_initial_schema","0002_receive_firing_function"(,"[^"]+")*\]/);
      const res = await fetch(`${url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: wireBody('alertmanager-firing') });
      expect(res.status).toBe(202);
      const { incidents } = (await res.json()) as { incidents: number[] };
      const page = await fetch(`${url}/incidents/${incidents[0]}`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('MON-005');
      expect(html).toContain('RUN-001');
      expect((await fetch(`${url}/static/app.css`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 120_000);
});
