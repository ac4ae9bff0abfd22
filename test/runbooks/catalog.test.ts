import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCatalogStore, loadCatalog, type Catalog } from '../../src/runbooks/catalog.js';
import { matchAlert } from '../../src/runbooks/match-alert.js';
import { MATRIX, RUN_101, RUN_102, writeCatalog } from './helpers.js';

describe('loadCatalog', () => {
  it('reads every runbook (not README.md) and the matrix', async () => {
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101, 'RUN-102.md': RUN_102, 'README.md': '# Runbooks\n', 'matrix.yml': MATRIX, 'notes.txt': 'x' });
    try {
      const catalog = await loadCatalog(dir);
      expect([...catalog.runbooks.keys()]).toEqual(['RUN-101', 'RUN-102']);
      expect(catalog.runbooks.get('RUN-101')!.file).toBe(path.join(dir, 'RUN-101.md'));
      expect(catalog.files.map((f) => path.basename(f))).toEqual(['RUN-101.md', 'RUN-102.md', 'matrix.yml']);
      expect(catalog.matrix!.alerts['MON-101']!.runbookId).toBe('RUN-101');
      expect(catalog.findings).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it('reports a missing matrix.yml and has no matrix', async () => {
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101 });
    try {
      const catalog = await loadCatalog(dir);
      expect(catalog.matrix).toBeNull();
      expect(catalog.findings).toEqual([expect.objectContaining({ rule: 'matrix-invalid', severity: 'error', file: path.join(dir, 'matrix.yml') })]);
    } finally {
      await cleanup();
    }
  });

  it('rejects when the directory does not exist', async () => {
    await expect(loadCatalog('/nonexistent/runbooks-dir')).rejects.toThrow(/ENOENT/);
  });
});

describe('createCatalogStore', () => {
  it('throws on current() before the first reload', () => {
    expect(() => createCatalogStore('/nonexistent').current()).toThrow(/reload\(\)/);
  });

  it('keeps the last good version of a runbook that stops parsing, and reports why', async () => {
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101, 'RUN-102.md': RUN_102, 'matrix.yml': MATRIX });
    const reloads: boolean[] = [];
    try {
      const store = createCatalogStore(dir, { onReload: (_catalog, result) => reloads.push(result.ok) });
      expect(await store.reload()).toEqual({ ok: true, findings: [] });
      const good = store.current().runbooks.get('RUN-101')!;

      // A half-finished edit: the category is misspelt.
      await writeFile(path.join(dir, 'RUN-101.md'), RUN_101.replace('Category: Incident', 'Category: Incdent'));
      const broken = await store.reload();
      expect(broken.ok).toBe(false);
      expect(broken.findings).toContainEqual(expect.objectContaining({ file: path.join(dir, 'RUN-101.md'), line: 2, rule: 'parse', severity: 'error' }));
      expect(broken.findings).toContainEqual(expect.objectContaining({ rule: 'parse', severity: 'warning', message: expect.stringContaining('last good version of RUN-101') }));
      expect(store.current().runbooks.get('RUN-101')!.hash).toBe(good.hash);

      // Still kept on the next reload while the file stays broken.
      await store.reload();
      expect(store.current().runbooks.get('RUN-101')!.hash).toBe(good.hash);

      // Fixed: the new version serves.
      const fixed = RUN_101.replace('Cache Eviction Storm', 'Cache Eviction Storm (v2)');
      await writeFile(path.join(dir, 'RUN-101.md'), fixed);
      expect((await store.reload()).ok).toBe(true);
      expect(store.current().runbooks.get('RUN-101')!.title).toBe('Cache Eviction Storm (v2)');

      // Deleting a file is deliberate: the runbook goes.
      await rm(path.join(dir, 'RUN-102.md'));
      await store.reload();
      expect(store.current().runbooks.has('RUN-102')).toBe(false);
      expect(reloads).toEqual([true, false, false, true, true]);
    } finally {
      await cleanup();
    }
  });

  it('keeps the last good version when a misspelt step heading would drop a step', async () => {
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101, 'RUN-102.md': RUN_102, 'matrix.yml': MATRIX });
    try {
      const store = createCatalogStore(dir);
      await store.reload();
      const good = store.current().runbooks.get('RUN-101')!;
      await writeFile(path.join(dir, 'RUN-101.md'), RUN_101.replace('### Step 2: Raise maxmemory', '### Step Two: Raise maxmemory'));
      const broken = await store.reload();
      expect(broken.ok).toBe(false);
      expect(broken.findings).toContainEqual(expect.objectContaining({ file: path.join(dir, 'RUN-101.md'), line: RUN_101.split('\n').indexOf('### Step 2: Raise maxmemory') + 1, rule: 'parse', severity: 'error' }));
      expect(store.current().runbooks.get('RUN-101')!.hash).toBe(good.hash);
      expect(store.current().runbooks.get('RUN-101')!.steps).toHaveLength(2);
    } finally {
      await cleanup();
    }
  });

  it('still serves, as read, a runbook with a misspelt step heading when there is no good version to keep (at start)', async () => {
    const misspelt = RUN_101.replace('### Step 2: Raise maxmemory', '### Step Two: Raise maxmemory');
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': misspelt, 'RUN-102.md': RUN_102, 'matrix.yml': MATRIX });
    try {
      const store = createCatalogStore(dir);
      const first = await store.reload();
      // Its error is reported, and its alerts still get the steps it has, instead of a "no runbook" incident.
      expect(first.findings).toContainEqual(expect.objectContaining({ file: path.join(dir, 'RUN-101.md'), rule: 'parse', severity: 'error' }));
      expect(store.current().runbooks.get('RUN-101')!.steps).toHaveLength(1);
    } finally {
      await cleanup();
    }
  });

  it('keeps the last good matrix when matrix.yml becomes invalid', async () => {
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101, 'matrix.yml': MATRIX });
    try {
      const store = createCatalogStore(dir);
      await store.reload();
      const good = store.current().matrix;
      await writeFile(path.join(dir, 'matrix.yml'), MATRIX.replace('severity: critical', 'severity: critcal'));
      const result = await store.reload();
      expect(result.ok).toBe(false);
      expect(result.findings).toContainEqual(expect.objectContaining({ rule: 'matrix-invalid', severity: 'error', message: expect.stringContaining('alerts.MON-101.severity') }));
      expect(store.current().matrix).toBe(good);
      expect(matchAlert(store.current(), 'MON-101').severity).toBe('critical');
    } finally {
      await cleanup();
    }
  });

  it('refuses a new matrix that sends a working route to a runbook that does not exist, keeping the last good one', async () => {
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101, 'matrix.yml': MATRIX });
    try {
      const store = createCatalogStore(dir);
      expect((await store.reload()).ok).toBe(true);
      const good = store.current().matrix;
      await writeFile(path.join(dir, 'matrix.yml'), MATRIX.replace('runbook: RUN-101', 'runbook: RUN-199'));
      const result = await store.reload();
      expect(result).toEqual({
        ok: false,
        findings: [{ file: path.join(dir, 'matrix.yml'), line: 14, severity: 'error', rule: 'matrix-invalid', message: 'alerts.MON-101.runbook: RUN-199 does not exist (it led to RUN-101); the last good matrix stays in service until this is fixed' }],
      });
      expect(store.current().matrix).toBe(good);
      expect(matchAlert(store.current(), 'MON-101').runbook?.id).toBe('RUN-101');
    } finally {
      await cleanup();
    }
  });

  it('warns of a route that leads to no runbook and did not before either: at start-up, or a new alert', async () => {
    const withNewAlert = `${MATRIX}  MON-150:\n    title: New alert\n    runbook: RUN-150\n    severity: warning\n    escalation: [platform-oncall]\n`;
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101, 'matrix.yml': MATRIX.replace('runbook: RUN-101', 'runbook: RUN-199') });
    try {
      const store = createCatalogStore(dir);
      const warning = (monId: string, runbookId: string, line: number) => ({ file: path.join(dir, 'matrix.yml'), line, severity: 'warning', rule: 'matrix-unknown-runbook', message: `alerts.${monId}.runbook: ${runbookId} does not exist, so ${monId}'s incidents open without a runbook` });
      expect(await store.reload()).toEqual({ ok: true, findings: [warning('MON-101', 'RUN-199', 14)] });
      expect(store.current().matrix!.alerts['MON-101']!.runbookId).toBe('RUN-199');

      await writeFile(path.join(dir, 'matrix.yml'), withNewAlert);
      expect(await store.reload()).toEqual({ ok: true, findings: [warning('MON-150', 'RUN-150', 19)] });
      expect(store.current().matrix!.alerts['MON-150']!.runbookId).toBe('RUN-150');
    } finally {
      await cleanup();
    }
  });

  it('keeps serving a routed runbook whose file is renamed while the new matrix is refused', async () => {
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101, 'matrix.yml': MATRIX });
    try {
      const store = createCatalogStore(dir);
      await store.reload();
      const good = store.current().runbooks.get('RUN-101')!;
      // RUN-101 becomes RUN-116, and the matrix is updated, but with a typo in it.
      await rm(path.join(dir, 'RUN-101.md'));
      await writeFile(path.join(dir, 'RUN-116.md'), RUN_101.replace('RUN-101:', 'RUN-116:'));
      await writeFile(path.join(dir, 'matrix.yml'), MATRIX.replace('runbook: RUN-101', 'runbook: RUN-116').replace('severity: critical', 'severity: critcal'));
      const result = await store.reload();
      expect(result.ok).toBe(false);
      expect(matchAlert(store.current(), 'MON-101').runbook?.hash).toBe(good.hash);
      expect(result.findings).toContainEqual(expect.objectContaining({ rule: 'routed-runbook-removed', severity: 'error', message: expect.stringContaining('RUN-101 is no longer defined by any file here, but alerts.MON-101') }));

      // The matrix fixed: the renamed runbook serves, and the old one is gone.
      await writeFile(path.join(dir, 'matrix.yml'), MATRIX.replace('runbook: RUN-101', 'runbook: RUN-116'));
      expect(await store.reload()).toEqual({ ok: true, findings: [] });
      expect(matchAlert(store.current(), 'MON-101').runbook?.id).toBe('RUN-116');
      expect(store.current().runbooks.has('RUN-101')).toBe(false);
    } finally {
      await cleanup();
    }
  });

  it('keeps the file that served a runbook when a copy with the same id is added beside it', async () => {
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101, 'matrix.yml': MATRIX });
    try {
      const store = createCatalogStore(dir);
      await store.reload();
      // Sorts before RUN-101.md ('-' < '.'), so name order alone would serve the draft.
      await writeFile(path.join(dir, 'RUN-101-draft.md'), RUN_101.replace('Cache Eviction Storm', 'Cache Eviction Storm (DRAFT)'));
      const result = await store.reload();
      expect(result.ok).toBe(false);
      expect(result.findings).toContainEqual(expect.objectContaining({ rule: 'duplicate-id', file: path.join(dir, 'RUN-101-draft.md'), message: expect.stringContaining('this file is ignored') }));
      expect(store.current().runbooks.get('RUN-101')!.file).toBe(path.join(dir, 'RUN-101.md'));
      // At start-up the file named after the id serves.
      const fresh = createCatalogStore(dir);
      await fresh.reload();
      expect(fresh.current().runbooks.get('RUN-101')!.file).toBe(path.join(dir, 'RUN-101.md'));
      // Renamed on purpose: the one file left serves.
      await rm(path.join(dir, 'RUN-101.md'));
      await rename(path.join(dir, 'RUN-101-draft.md'), path.join(dir, 'RUN-101-v2.md'));
      expect((await store.reload()).ok).toBe(true);
      expect(store.current().runbooks.get('RUN-101')!.title).toContain('(DRAFT)');
    } finally {
      await cleanup();
    }
  });

  it('keeps the current catalog when the directory disappears', async () => {
    const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101, 'matrix.yml': MATRIX });
    const store = createCatalogStore(dir);
    await store.reload();
    const before = store.current();
    await cleanup();
    const result = await store.reload();
    expect(result.ok).toBe(false);
    expect(result.findings[0]!.message).toContain('cannot read the runbook directory');
    expect(store.current()).toBe(before);
  });
});

describe('matchAlert', () => {
  async function catalog(files: Record<string, string>): Promise<Catalog> {
    const { dir, cleanup } = await writeCatalog(files);
    try {
      return await loadCatalog(dir);
    } finally {
      await cleanup();
    }
  }

  it('routes a known MON- id to its runbook, severity and chain', async () => {
    const c = await catalog({ 'RUN-101.md': RUN_101, 'matrix.yml': MATRIX });
    const match = matchAlert(c, 'mon-101');
    expect(match).toMatchObject({ monId: 'MON-101', severity: 'critical', escalation: ['platform-oncall', 'platform-lead'], title: 'Redis evictions above 1000/s', known: true });
    expect(match.runbook!.id).toBe('RUN-101');
  });

  it('gives unknown and missing MON- ids the default, with no runbook', async () => {
    const c = await catalog({ 'RUN-101.md': RUN_101, 'matrix.yml': MATRIX });
    expect(matchAlert(c, 'MON-999')).toEqual({ monId: 'MON-999', runbook: null, severity: 'warning', escalation: ['platform-oncall'], title: null, known: false });
    expect(matchAlert(c, null)).toEqual({ monId: null, runbook: null, severity: 'warning', escalation: ['platform-oncall'], title: null, known: false });
  });

  it('keeps a known alert whose runbook is missing known, with runbook null', async () => {
    const c = await catalog({ 'matrix.yml': MATRIX });
    expect(matchAlert(c, 'MON-101')).toMatchObject({ known: true, runbook: null, severity: 'critical' });
  });

  it('still answers without any matrix', async () => {
    const c = await catalog({ 'RUN-101.md': RUN_101 });
    expect(matchAlert(c, 'MON-101')).toEqual({ monId: 'MON-101', runbook: null, severity: 'warning', escalation: [], title: null, known: false });
  });
});
