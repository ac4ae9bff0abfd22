import type { Alert, Source } from './alert.js';
import { adaptAlertmanager } from './alertmanager.js';
import { adaptDatadog } from './datadog.js';
import { adaptGrafana } from './grafana.js';
import { adaptPagerduty } from './pagerduty.js';

/**
 * Parsed JSON body → alerts. Pure: no I/O and no clock, `receivedAt` is passed in for bodies without timestamps.
 * Throws a ZodError for bodies of the wrong shape; an empty array is a valid body that carries no alert.
 */
export type Adapter = (body: unknown, receivedAt: Date) => Alert[];

export const adapters: Record<Source, Adapter> = {
  datadog: adaptDatadog,
  grafana: adaptGrafana,
  alertmanager: adaptAlertmanager,
  pagerduty: adaptPagerduty,
};
