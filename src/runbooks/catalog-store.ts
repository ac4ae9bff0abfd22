// The catalog the running service routes with. Reloading never makes things worse: a runbook file that
// stops parsing keeps its last good version in service, and an invalid matrix keeps the last good
// matrix, so a typo pushed to the runbook repository never takes paging down. The findings of the
// broken files are still reported, so the author sees why the change did not take.
import { assembleCatalog, readCatalogSources } from './catalog-sources.js';
import type { Catalog } from './catalog.js';
import type { Matrix } from './matrix.js';
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
