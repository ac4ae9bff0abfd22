import type { Alert } from '../alerts/alert.js';

/** Alerts with a MON- id meet in one incident whatever the source; alerts without one are grouped by source and fingerprint. */
export function groupKeyOf(alert: Alert): string {
  return alert.monId ? `mon:${alert.monId}` : `nomon:${alert.source}:${alert.fingerprint}`;
}
