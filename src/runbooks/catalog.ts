// The runbook catalog: every RUN- markdown file of a directory plus its matrix.yml, parsed together.
import { assembleCatalog, readCatalogSources } from './catalog-sources.js';
import type { Matrix } from './matrix.js';
import type { Finding, Runbook } from './runbook.js';

export { createCatalogStore, type CatalogStore, type CatalogStoreOptions, type ReloadResult } from './catalog-store.js';

export { MATRIX_FILE } from './catalog-sources.js';

export interface Catalog {
  dir: string;
  /** By RUN- id. A duplicate id keeps the file that served it before, else the one named after it, else the first in name order, and reports `duplicate-id`. */
  runbooks: Map<string, Runbook>;
  matrix: Matrix | null;
  /** Parse, matrix and duplicate-id findings; `lintCatalog` adds the quality gates. */
  findings: Finding[];
  /** Every file read: the runbook files in name order, then the matrix when present. */
  files: string[];
}

export async function loadCatalog(dir: string): Promise<Catalog> {
  return assembleCatalog(await readCatalogSources(dir));
}
