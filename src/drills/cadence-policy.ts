// Which drill cadence applies to a runbook, from the matrix. A runbook's severity is the most urgent severity among the
// matrix alerts that lead to it; severities are ranked in the order matrix.yml lists them (most urgent first, as in
// critical, warning, info). A runbook no alert reaches takes the matrix's `default` severity; with no matrix, none.
import type { Catalog } from '../runbooks/catalog.js';

export function runbookSeverity(catalog: Catalog, runbookId: string): string | null {
  const matrix = catalog.matrix;
  if (!matrix) return null;
  const rank = Object.keys(matrix.severities);
  let best: string | null = null;
  for (const alert of Object.values(matrix.alerts)) {
    if (alert.runbookId !== runbookId) continue;
    if (best === null || rank.indexOf(alert.severity) < rank.indexOf(best)) best = alert.severity;
  }
  return best ?? matrix.default.severity;
}

/** `drill_every` of the runbook's severity in ms, or null when it has none. */
export function drillCadenceMs(catalog: Catalog, runbookId: string): number | null {
  const severity = runbookSeverity(catalog, runbookId);
  if (severity === null) return null;
  return catalog.matrix?.severities[severity]?.drillEveryMs ?? null;
}
