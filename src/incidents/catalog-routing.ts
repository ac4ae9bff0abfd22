import type { Catalog } from '../runbooks/catalog.js';
import { matchAlert } from '../runbooks/match-alert.js';
import type { Routing } from './routing.js';

// Used when the matrix has never loaded: page on every alert rather than stay silent.
const FALLBACK_POLICY = { page: true, ackWithinMs: 5 * 60_000, repeatEveryMs: 10 * 60_000 };

export function routingFromCatalog(catalog: Catalog): Routing {
  const matrix = catalog.matrix;
  return {
    route(monId) {
      const match = matchAlert(catalog, monId);
      const runbook = match.runbook;
      return {
        monId,
        known: match.known,
        title: match.known ? match.title : null,
        severity: match.severity,
        escalation: match.escalation,
        runbook: runbook ? { id: runbook.id, title: runbook.title, hash: runbook.hash, file: runbook.file, text: runbook.text } : null,
      };
    },
    policy(severity) {
      const s = matrix?.severities[severity];
      return s ? { page: s.page, ackWithinMs: s.ackWithinMs, repeatEveryMs: s.repeatEveryMs } : FALLBACK_POLICY;
    },
    contact(id) {
      return matrix?.contacts[id];
    },
  };
}
