import { z } from 'zod';
import type { Alert } from './alert.js';
import { alertFromGroupAlert, groupAlertShape, groupShape } from './alert-group.js';
import { jsonObject } from './schema-parts.js';

/** Prometheus Alertmanager / Mimir webhook (`version "4"`), which also carries Grafana's Mimir-style integration. */
export const alertmanagerBodySchema = jsonObject({
  ...groupShape,
  alerts: z.array(z.object(groupAlertShape)),
});

export function adaptAlertmanager(body: unknown, _receivedAt: Date): Alert[] {
  const parsed = alertmanagerBodySchema.parse(body);
  return parsed.alerts.map((alert) => alertFromGroupAlert('alertmanager', alert));
}
