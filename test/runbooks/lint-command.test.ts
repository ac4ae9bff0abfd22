import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLint } from '../../src/runbooks/lint-command.js';
import { MATRIX, NOW, RUN_101, RUN_102, SHIPPED_DIR, writeCatalog } from './helpers.js';

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runLint(args, { out: (s) => out.push(s), err: (s) => err.push(s), now: NOW, env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('runbook-router lint', () => {
  it('the shipped runbooks/ directory has no errors (warnings are deliberate and few)', async () => {
    const { code, out } = await run([SHIPPED_DIR, '--format', 'json']);
    const report = JSON.parse(out) as { findings: { rule: string; severity: string; file: string }[]; summary: { errors: number; warnings: number; files: number } };
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(code).toBe(0);
    expect(report.summary.errors).toBe(0);
    expect(report.summary.files).toBeGreaterThanOrEqual(9);
    expect(report.summary.warnings).toBeLessThanOrEqual(3);
    expect(report.findings.every((f) => f.rule === 'stale')).toBe(true);
  });

  it('the shipped matrix routes the sample webhooks MON-005, MON-012 and MON-027', async () => {
    const { loadCatalog } = await import('../../src/runbooks/catalog.js');
    const catalog = await loadCatalog(SHIPPED_DIR);
    expect(catalog.matrix!.alerts['MON-005']).toMatchObject({ runbookId: 'RUN-001', severity: 'critical' });
    expect(catalog.matrix!.alerts['MON-012']).toMatchObject({ severity: 'critical' });
    expect(catalog.runbooks.get(catalog.matrix!.alerts['MON-012']!.runbookId!)!.title).toMatch(/5xx/);
    expect(catalog.runbooks.get(catalog.matrix!.alerts['MON-027']!.runbookId!)!.title).toMatch(/Settlement/);
    expect(new Set([...catalog.runbooks.values()].map((r) => r.category))).toEqual(new Set(['Incident', 'Deployment', 'Maintenance', 'Recovery', 'Escalation']));
  });

  it('prints text findings and a summary; exit 0 with warnings only', async () => {
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101.replace('2026-11-01', '2026-01-02'), 'RUN-102.md': RUN_102, 'matrix.yml': MATRIX });
    try {
      const { code, out } = await run([dir]);
      expect(code).toBe(0);
      expect(out).toBe(`${path.join(dir, 'RUN-101.md')}:5: warning stale: last tested 2026-01-02, 324 days ago (limit 90); drill RUN-101 and, once the drill passes, update the "Last Tested:" line to the drill date\n0 errors, 1 warning in 3 files`);
      expect((await run([dir], { STALE_AFTER_DAYS: '400' })).out).toBe('0 errors, 0 warnings in 3 files');
    } finally {
      await cleanup();
    }
  });

  it('exits 1 on errors, and --strict turns warnings into errors', async () => {
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101.replace('2026-11-01', '2026-01-02'), 'RUN-102.md': RUN_102.replace('Owner: Platform Team\n', ''), 'matrix.yml': MATRIX });
    try {
      const plain = await run([dir, '--format=json']);
      expect(plain.code).toBe(1);
      expect(JSON.parse(plain.out).summary).toEqual({ errors: 1, warnings: 1, files: 3 });
      const strict = await run(['--strict', '--format', 'json', dir]);
      expect(strict.code).toBe(1);
      expect(JSON.parse(strict.out).summary).toEqual({ errors: 2, warnings: 0, files: 3 });
      expect(JSON.parse(strict.out).findings.map((f: { rule: string; severity: string }) => `${f.rule}:${f.severity}`)).toEqual(['stale:error', 'missing-owner:error']);
    } finally {
      await cleanup();
    }
  });

  it('--strict with warnings only exits 1', async () => {
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101.replace('2026-11-01', '2026-01-02'), 'RUN-102.md': RUN_102, 'matrix.yml': MATRIX });
    try {
      expect((await run([dir])).code).toBe(0);
      expect((await run([dir, '--strict'])).code).toBe(1);
    } finally {
      await cleanup();
    }
  });

  it('reports a zero repeat_every in matrix.yml as file:line: error matrix-invalid, and exits 1', async () => {
    const matrix = MATRIX.replace('repeat_every: 10m', 'repeat_every: 0s');
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101, 'RUN-102.md': RUN_102, 'matrix.yml': matrix });
    try {
      const { code, out } = await run([dir]);
      expect(code).toBe(1);
      expect(out.split('\n')[0]).toBe(
        `${path.join(dir, 'matrix.yml')}:2: error matrix-invalid: severities.critical.repeat_every: "0s" is too short, it must be at least 1s: escalation runs once a second, so a shorter repeat_every pages the last level on every tick (typical: 10m; leave it out to notify the last level once)`,
      );
      expect(out.split('\n').at(-1)).toBe('1 error, 0 warnings in 3 files');
    } finally {
      await cleanup();
    }
  });

  it('points references to a runbook that does not parse at that file, not at a wrong id', async () => {
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101.replace('RUN-101: Cache Eviction Storm', 'Cache Eviction Storm'), 'RUN-102.md': RUN_102, 'matrix.yml': MATRIX });
    try {
      const { code, out } = await run([dir]);
      expect(code).toBe(1);
      const lines = out.split('\n');
      expect(lines.filter((l) => l.startsWith(path.join(dir, 'RUN-101.md')) && / error /.test(l)).length).toBeGreaterThan(0);
      const pointers = lines.filter((l) => l.includes('RUN-101 does not parse (RUN-101.md): fix the errors reported there'));
      expect(pointers.map((l) => l.split(':')[0])).toEqual(expect.arrayContaining([path.join(dir, 'RUN-102.md'), path.join(dir, 'matrix.yml')]));
      expect(out).not.toContain('RUN-101 is not a runbook in this catalog');
      expect(out).not.toContain('RUN-101 does not exist');
    } finally {
      await cleanup();
    }
  });

  it('exits 2 when the directory or its matrix.yml is missing', async () => {
    const missing = await run(['/nonexistent/runbooks']);
    expect(missing).toMatchObject({ code: 2, out: '' });
    expect(missing.err).toContain('/nonexistent/runbooks not found');
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101 });
    try {
      const noMatrix = await run([dir]);
      expect(noMatrix.code).toBe(2);
      expect(noMatrix.err).toContain('matrix.yml not found');
      await rm(path.join(dir, 'RUN-101.md'));
      await mkdir(path.join(dir, 'matrix.yml'));
      expect((await run([dir])).code).toBe(2);
    } finally {
      await cleanup();
    }
  });

  it('exits 2 on bad usage or a bad STALE_AFTER_DAYS', async () => {
    expect((await run(['--format', 'xml'])).code).toBe(2);
    expect((await run(['--fast'])).err).toContain('unknown option --fast');
    expect((await run(['a', 'b'])).code).toBe(2);
    expect((await run([SHIPPED_DIR], { STALE_AFTER_DAYS: 'ninety' })).code).toBe(2);
  });

  it('defaults to ./runbooks', async () => {
    const cwd = process.cwd();
    process.chdir(path.dirname(SHIPPED_DIR));
    try {
      const { code, out } = await run([]);
      expect(code).toBe(0);
      expect(out).toMatch(/^runbooks\/RUN-/);
    } finally {
      process.chdir(cwd);
    }
  });
});
