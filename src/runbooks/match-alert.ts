// Routing one alert through the matrix. An alert is never dropped: a missing or unknown MON- id gets the
// matrix's default severity and escalation, with no runbook, and is flagged as not known.
import type { Catalog } from './catalog.js';
import { normalizeMonId } from './mon-id.js';
import type { Runbook } from './runbook.js';

export interface AlertMatch {
  monId: string | null;
  /** null when the MON- id is unknown or its runbook does not exist (lint reports the latter). */
  runbook: Runbook | null;
  severity: string;
  /** Contact ids, level 1 first. */
  escalation: string[];
  /** The matrix title of a known alert; null for unknown ones (use the alert's own title). */
  title: string | null;
  /** Whether the MON- id is in the matrix. */
  known: boolean;
}

// Used only while no valid matrix was ever loaded: open the incident, page nobody we do not know of.
const NO_MATRIX_SEVERITY = 'warning';

export function matchAlert(catalog: Catalog, monId: string | null): AlertMatch {
  const id = monId === null ? null : normalizeMonId(monId);
  const matrix = catalog.matrix;
  const alert = id && matrix ? matrix.alerts[id] : undefined;
  if (alert) {
    return {
      monId: id,
      runbook: alert.runbookId ? (catalog.runbooks.get(alert.runbookId) ?? null) : null,
      severity: alert.severity,
      escalation: [...alert.escalation],
      title: alert.title,
      known: true,
    };
  }
  return {
    monId: id ?? monId,
    runbook: null,
    severity: matrix?.default.severity ?? NO_MATRIX_SEVERITY,
    escalation: [...(matrix?.default.escalation ?? [])],
    title: null,
    known: false,
  };
}
