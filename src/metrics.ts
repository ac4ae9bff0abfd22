import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per app instance (no prom-client globals), so tests and several apps in one process never collide. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const deliveries = new Counter({
    name: 'runbook_router_deliveries_total',
    help: 'Webhook deliveries by source and outcome (accepted, duplicate, rejected, unauthorized, too_large, aborted, unavailable, error)',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  });
  const alertsReceived = new Counter({
    name: 'runbook_router_alerts_total',
    help: 'Alerts in applied deliveries (not counting duplicates again), by source and status',
    labelNames: ['source', 'status'] as const,
    registers: [registry],
  });
  const incidentsOpened = new Counter({
    name: 'runbook_router_incidents_opened_total',
    help: 'Incidents opened (including reopened), by severity',
    labelNames: ['severity'] as const,
    registers: [registry],
  });
  const escalationsFired = new Counter({
    name: 'runbook_router_escalations_fired_total',
    help: 'Escalation levels notified, by severity',
    labelNames: ['severity'] as const,
    registers: [registry],
  });
  const timerLag = new Histogram({
    name: 'runbook_router_timer_lag_seconds',
    help: 'How late an escalation deadline was claimed (now minus due time)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
  });
  const notificationsSent = new Counter({
    name: 'runbook_router_notifications_total',
    help: 'Outbox notification attempts by outcome (sent, retry, failed; cancelled: a page dropped unsent because its incident was acknowledged, resolved or reopened first)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const outboxBacklog = new Gauge({
    name: 'runbook_router_outbox_backlog',
    help: 'Notifications pending in the outbox (refreshed by the outbox sender)',
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'runbook_router_ingest_batch_deliveries',
    help: 'Deliveries committed together in one group-commit transaction',
    buckets: [1, 2, 5, 10, 25, 50, 100, 200, 500],
    registers: [registry],
  });
  const ingestBatches = new Counter({
    name: 'runbook_router_ingest_batches_total',
    help: 'Group-commit batches by how they were applied: single (one round trip, the common case) or transaction',
    labelNames: ['path'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'runbook_router_http_request_duration_seconds',
    help: 'HTTP request duration by route group and status class',
    labelNames: ['route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return { registry, deliveries, alertsReceived, incidentsOpened, escalationsFired, timerLag, notificationsSent, outboxBacklog, batchSize, ingestBatches, httpDuration };
}

export type Metrics = ReturnType<typeof createMetrics>;
