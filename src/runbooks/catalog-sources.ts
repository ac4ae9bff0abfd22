// Reading a catalog directory and deciding which parsed versions serve; shared by loadCatalog and the
// catalog store (which passes the last good versions as the fallback).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Catalog } from './catalog.js';
import { parseMatrix, type Matrix, type MatrixResult } from './matrix.js';
import { parseRunbook, type ParseResult } from './parse-runbook.js';
import type { Finding, Runbook } from './runbook.js';

export const MATRIX_FILE = 'matrix.yml';

/** What was read from disk, before deciding which versions serve (see catalog-store). */
export interface CatalogSources {
  dir: string;
  runbookFiles: { file: string; result: ParseResult }[];
  /** null when matrix.yml does not exist. */
  matrix: { file: string; result: MatrixResult } | null;
}

/** Reads every `*.md` except README.md, and matrix.yml. Rejects when the directory cannot be read. */
export async function readCatalogSources(dir: string): Promise<CatalogSources> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.md') && e.name.toLowerCase() !== 'readme.md')
    .map((e) => e.name)
    .sort();
  const runbookFiles = await Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name);
      return { file, result: parseRunbook(await readFile(file, 'utf8'), file) };
    }),
  );
  const matrixFile = path.join(dir, MATRIX_FILE);
  let matrixText: string | null;
  try {
    matrixText = await readFile(matrixFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    matrixText = null;
  }
  return { dir, runbookFiles, matrix: matrixText === null ? null : { file: matrixFile, result: parseMatrix(matrixText, matrixFile) } };
}

/** Versions to serve for files that no longer parse, and the matrix to keep when the new one is invalid. */
export interface CatalogFallback {
  runbooksByFile: Map<string, Runbook>;
  matrix: Matrix | null;
}

/**
 * Of several files defining one RUN- id, the one that serves ranks lowest: the file that served it before (a copy added
 * beside it, a draft say, must not take over a live route), then the file named after the id, then name order.
 */
function servingRank(runbook: Runbook, fallback?: CatalogFallback): number {
  if (fallback?.runbooksByFile.get(runbook.file)?.id === runbook.id) return 0;
  return path.basename(runbook.file).toLowerCase() === `${runbook.id.toLowerCase()}.md` ? 1 : 2;
}

export function assembleCatalog(sources: CatalogSources, fallback?: CatalogFallback): Catalog {
  const findings: Finding[] = [];
  const runbooks = new Map<string, Runbook>();
  for (const { file, result } of sources.runbookFiles) {
    findings.push(...result.findings);
    // A file that reads but is not servable (a step lost to a misspelt heading) does not replace a good version; with
    // none to keep (at start, a new file) it serves as read, its error reported: a runbook missing a step beats none.
    let runbook = result.servable ? result.runbook : null;
    const previous = fallback?.runbooksByFile.get(file);
    if (!runbook && previous) {
      runbook = previous;
      findings.push({ file, line: 1, severity: 'warning', rule: 'parse', message: `does not parse; the last good version of ${previous.id} (sha256 ${previous.hash.slice(0, 12)}) stays in service` });
    }
    runbook ??= result.runbook;
    if (!runbook) continue;
    const first = runbooks.get(runbook.id);
    if (first) {
      const [serving, ignored] = servingRank(runbook, fallback) < servingRank(first, fallback) ? [runbook, first] : [first, runbook];
      findings.push({ file: ignored.file, line: ignored.lines.id, severity: 'error', rule: 'duplicate-id', message: `${runbook.id} is already defined in ${serving.file}:${serving.lines.id}; this file is ignored` });
      runbooks.set(runbook.id, serving);
      continue;
    }
    runbooks.set(runbook.id, runbook);
  }

  const matrixFile = sources.matrix?.file ?? path.join(sources.dir, MATRIX_FILE);
  let matrix = sources.matrix?.result.matrix ?? null;
  if (sources.matrix) findings.push(...sources.matrix.result.findings);
  else findings.push({ file: matrixFile, line: 1, severity: 'error', rule: 'matrix-invalid', message: `${MATRIX_FILE} not found in ${sources.dir}` });
  if (!matrix && fallback?.matrix) {
    matrix = fallback.matrix;
    findings.push({ file: matrixFile, line: 1, severity: 'warning', rule: 'matrix-invalid', message: 'the last good matrix stays in service until this file is fixed' });
  }

  const files = sources.runbookFiles.map((f) => f.file);
  if (sources.matrix) files.push(sources.matrix.file);
  return { dir: sources.dir, runbooks, matrix, findings, files };
}

