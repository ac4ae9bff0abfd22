// `lintCatalog`: every quality gate over a loaded catalog, and the text format the CLI prints.
import path from 'node:path';
import { plural } from '../plural.js';
import type { Catalog } from './catalog.js';
import { lintMatrixAgainstRunbooks } from './lint-matrix.js';
import { lintRunbook, type LintOptions } from './lint-runbook.js';
import type { Finding } from './runbook.js';

export { MAX_STEPS, type LintOptions } from './lint-runbook.js';

/** Parse, matrix and duplicate-id findings of the catalog plus every gate, sorted by file and line. */
export function lintCatalog(catalog: Catalog, options: LintOptions): Finding[] {
  const knownIds = new Set(catalog.runbooks.keys());
  const whyMissing = unparsedRunbookFiles(catalog);
  // The service's catalog store warns of routes to missing runbooks itself; the gate below makes them errors.
  const findings = catalog.findings.filter((f) => f.rule !== 'matrix-unknown-runbook');
  for (const runbook of catalog.runbooks.values()) findings.push(...lintRunbook(runbook, knownIds, options, whyMissing));
  findings.push(...lintMatrixAgainstRunbooks(catalog, whyMissing));
  return sortFindings(findings);
}

/**
 * Why each runbook whose file did not parse is missing, by the RUN- id its file name starts with. A reference to such a
 * runbook is broken because of that file, not because the id is wrong: saying so sends the author to the one error
 * that matters.
 */
function unparsedRunbookFiles(catalog: Catalog): ReadonlyMap<string, string> {
  const parsedFiles = new Set([...catalog.runbooks.values()].map((r) => r.file));
  const unparsed = new Map<string, string>();
  for (const file of catalog.files) {
    if (parsedFiles.has(file)) continue;
    const id = /^(RUN-\d+)/i.exec(path.basename(file))?.[1]?.toUpperCase();
    if (id && !unparsed.has(id)) unparsed.set(id, `${id} does not parse (${path.basename(file)}): fix the errors reported there`);
  }
  return unparsed;
}

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.rule.localeCompare(b.rule)));
}

export interface FindingSummary {
  errors: number;
  warnings: number;
  /** Files checked (runbooks and matrix), not only those with findings. */
  files: number;
}

export function summarize(findings: Finding[], filesChecked: number): FindingSummary {
  const errors = findings.filter((f) => f.severity === 'error').length;
  return { errors, warnings: findings.length - errors, files: filesChecked };
}

/** One `file:line: severity rule: message` line per finding, then `N errors, M warnings in K files`. */
export function formatFindings(findings: Finding[], filesChecked: number): string {
  const { errors, warnings, files } = summarize(findings, filesChecked);
  const lines = findings.map((f) => `${f.file}:${f.line}: ${f.severity} ${f.rule}: ${f.message}`);
  lines.push(`${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(files, 'file')}`);
  return lines.join('\n');
}
