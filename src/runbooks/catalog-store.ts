// The catalog the running service routes with. Reloading never makes things worse: a runbook file that
// stops parsing keeps its last good version in service, and an invalid matrix keeps the last good
// matrix, so a typo pushed to the runbook repository never takes paging down. The findings of the
// broken files are still reported, so the author sees why the change did not take. The same holds between the files:
// a matrix that routes an alert to a runbook that does not exist keeps the last good matrix, and a runbook the matrix in
// service routes to keeps its last good version when its file is removed or renamed.
import { assembleCatalog, readCatalogSources } from './catalog-sources.js';
import type { Catalog } from './catalog.js';
import type { Matrix } from './matrix.js';
import type { CatalogFallback } from './catalog-sources.js';
import type { Finding, Runbook } from './runbook.js';

export interface ReloadResult {
  /** true when no file has an error: every runbook parsed, the matrix is valid, nothing stale is kept in service. */
  ok: boolean;
  findings: Finding[];
}

export interface CatalogStoreOptions {
  /** Called after every reload, successful or not, with the catalog now in service. */
  onReload?: (catalog: Catalog, result: ReloadResult) => void;
}

export interface CatalogStore {
  /** The catalog in service. Throws until the first reload() has completed. */
  current(): Catalog;
  /** Re-reads the directory. Never rejects: an unreadable directory keeps the current catalog and reports ok false. */
  reload(): Promise<ReloadResult>;
}

/** Call `await store.reload()` once at startup, then on every change (SIGHUP, file watcher, admin action). */
export function createCatalogStore(dir: string, options: CatalogStoreOptions = {}): CatalogStore {
  let catalog: Catalog | null = null;
  let lastGood = { runbooksByFile: new Map<string, Runbook>(), matrix: null as Matrix | null };
  // Reloads run one at a time, so a slow read can never overwrite the result of a newer one.
  let queue: Promise<unknown> = Promise.resolve();

  async function load(): Promise<ReloadResult> {
    let next: Catalog;
    try {
      next = assembleCatalog(await readCatalogSources(dir), lastGood);
    } catch (error) {
      const findings: Finding[] = [{ file: dir, line: 1, severity: 'error', rule: 'parse', message: `cannot read the runbook directory: ${(error as Error).message}` }];
      const result = { ok: false, findings };
      catalog ??= { dir, runbooks: new Map(), matrix: null, findings, files: [] };
      options.onReload?.(catalog, result);
      return result;
    }
    next = keepRoutesServed(next, lastGood);
    const runbooksByFile = new Map<string, Runbook>();
    for (const runbook of next.runbooks.values()) runbooksByFile.set(runbook.file, runbook);
    lastGood = { runbooksByFile, matrix: next.matrix };
    catalog = next;
    const result = { ok: !next.findings.some((f) => f.severity === 'error'), findings: next.findings };
    options.onReload?.(next, result);
    return result;
  }

  return {
    current() {
      if (!catalog) throw new Error(`catalog store for ${dir}: call reload() before current()`);
      return catalog;
    },
    reload() {
      const run = queue.then(load);
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

/**
 * What routes to a runbook must keep leading to one. A new matrix that sends an alert whose route worked to a runbook
 * that does not exist (a typo, a file not added yet) is refused like an invalid one: those incidents would open without
 * their runbook. A runbook that the matrix in service routes to and that no file defines any more (removed, renamed, or
 * the matrix that stopped routing to it refused) keeps its last good version. Both are errors, so the reload reports ok
 * false. A route that leads nowhere and led nowhere before (or is new) is only a warning here, as it is a gap the
 * matrix page and the weekly report show, and lint an error.
 */
function keepRoutesServed(next: Catalog, lastGood: CatalogFallback): Catalog {
  const findings = [...next.findings];
  const lastGoodById = new Map([...lastGood.runbooksByFile.values()].map((r) => [r.id, r]));
  const exists = (id: string | null) => id !== null && (next.runbooks.has(id) || lastGoodById.has(id));
  let matrix = next.matrix;
  if (matrix && lastGood.matrix && matrix !== lastGood.matrix) {
    const before = lastGood.matrix;
    const broken = Object.values(matrix.alerts).filter((a) => a.runbookId !== null && !exists(a.runbookId) && exists(before.alerts[a.monId]?.runbookId ?? null));
    if (broken.length) {
      for (const a of broken) {
        findings.push({ file: matrix.file, line: a.runbookLine ?? a.line, severity: 'error', rule: 'matrix-invalid', message: `alerts.${a.monId}.runbook: ${a.runbookId} does not exist (it led to ${before.alerts[a.monId]!.runbookId}); the last good matrix stays in service until this is fixed` });
      }
      matrix = before;
    }
  }
  const runbooks = new Map(next.runbooks);
  for (const a of Object.values(matrix?.alerts ?? {})) {
    if (a.runbookId === null || runbooks.has(a.runbookId)) continue;
    const previous = lastGoodById.get(a.runbookId);
    if (previous) {
      runbooks.set(previous.id, previous);
      findings.push({
        file: previous.file,
        line: 1,
        severity: 'error',
        rule: 'routed-runbook-removed',
        message: `${previous.id} is no longer defined by any file here, but alerts.${a.monId} in the matrix in service leads to it; its last good version (sha256 ${previous.hash.slice(0, 12)}) stays in service until the matrix stops routing to it`,
      });
    } else {
      findings.push({ file: matrix!.file, line: a.runbookLine ?? a.line, severity: 'warning', rule: 'matrix-unknown-runbook', message: `alerts.${a.monId}.runbook: ${a.runbookId} does not exist, so ${a.monId}'s incidents open without a runbook` });
    }
  }
  return { ...next, matrix, runbooks, findings };
}
