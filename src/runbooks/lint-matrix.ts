// Gates between the matrix and the runbooks: every alert leads to an existing runbook, every Incident
// runbook is reached by some alert, and a runbook's `Trigger:` names the same MON- ids the matrix routes to it.
import type { Catalog } from './catalog.js';
import type { Finding } from './runbook.js';

export function lintMatrixAgainstRunbooks(catalog: Catalog, whyMissing: ReadonlyMap<string, string> = new Map()): Finding[] {
  const matrix = catalog.matrix;
  if (!matrix) return [];
  const findings: Finding[] = [];
  const routedTo = new Map<string, string[]>();

  for (const alert of Object.values(matrix.alerts)) {
    if (alert.runbookId === null) {
      findings.push({ file: matrix.file, line: alert.line, severity: 'error', rule: 'matrix-unknown-runbook', message: `alerts.${alert.monId}.runbook: missing; every alert needs a runbook` });
      continue;
    }
    if (!catalog.runbooks.has(alert.runbookId)) {
      const why = whyMissing.get(alert.runbookId) ?? `${alert.runbookId} does not exist`;
      findings.push({ file: matrix.file, line: alert.runbookLine ?? alert.line, severity: 'error', rule: 'matrix-unknown-runbook', message: `alerts.${alert.monId}.runbook: ${why}` });
      continue;
    }
    routedTo.set(alert.runbookId, [...(routedTo.get(alert.runbookId) ?? []), alert.monId]);
  }

  // A paging severity without ack_within never gets past level 1, so every later contact of a chain is never paged;
  // the lead listed there believes they are the backstop. The matrix stays usable (this is not a parse error).
  const unreachable = (path: string, line: number, severity: string, chain: string[]) => {
    const policy = matrix.severities[severity];
    if (!policy?.page || policy.ackWithinMs !== null || chain.length < 2) return;
    const never = chain.slice(1);
    findings.push({ file: matrix.file, line, severity: 'error', rule: 'matrix-invalid', message: `${path}.escalation: severity "${severity}" has no ack_within, so ${never.join(', ')} ${never.length > 1 ? 'are' : 'is'} never notified; add ack_within to severities.${severity} or shorten the chain` });
  };
  unreachable('default', matrix.defaultLine ?? 1, matrix.default.severity, matrix.default.escalation);
  for (const alert of Object.values(matrix.alerts)) unreachable(`alerts.${alert.monId}`, alert.line, alert.severity, alert.escalation);

  for (const runbook of catalog.runbooks.values()) {
    const routed = routedTo.get(runbook.id) ?? [];
    const line = runbook.lines.trigger ?? runbook.lines.id;
    if (runbook.category === 'Incident' && !routed.length) {
      findings.push({ file: runbook.file, line, severity: 'warning', rule: 'unreached-runbook', message: `no alert in ${matrix.file} leads to Incident runbook ${runbook.id}; add "runbook: ${runbook.id}" to its MON- alert` });
    }
    const triggered = runbook.trigger?.monIds ?? [];
    const notInMatrix = triggered.filter((id) => !routed.includes(id));
    const notInTrigger = routed.filter((id) => !triggered.includes(id));
    if (routed.length && (notInMatrix.length || notInTrigger.length)) {
      const parts = [
        notInTrigger.length && `${matrix.file} routes ${notInTrigger.join(', ')} here but Trigger: does not name ${notInTrigger.length > 1 ? 'them' : 'it'}`,
        notInMatrix.length && `Trigger: names ${notInMatrix.join(', ')}, which ${matrix.file} does not route to ${runbook.id}`,
      ].filter(Boolean);
      findings.push({ file: runbook.file, line, severity: 'warning', rule: 'trigger-mismatch', message: parts.join('; ') });
    } else if (!routed.length && triggered.length && runbook.category !== 'Incident') {
      // (An unreached Incident runbook already has its warning above.)
      findings.push({ file: runbook.file, line, severity: 'warning', rule: 'trigger-mismatch', message: `Trigger: names ${triggered.join(', ')}, but ${matrix.file} routes no alert to ${runbook.id}` });
    }
  }
  return findings;
}
