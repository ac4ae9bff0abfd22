// Shared by the responder-surface tests (supertest) and the browser tests: a fixture catalog, Alertmanager deliveries,
// and reading CSRF tokens out of rendered pages.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import request, { type Test } from 'supertest';
import { ROOT } from '../support/test-service.js';

/** RUN-001 (references, durations, a manual checkpoint), RUN-011 (an Incident runbook no alert reaches), matrix.yml (MON-404 → a missing runbook). */
export const FIXTURE_RUNBOOKS = path.join(ROOT, 'test/http/fixtures/runbooks');

/** A private copy of the fixture catalog that a test may edit. */
export async function copyRunbooks(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rr-runbooks-'));
  for (const file of await fs.readdir(FIXTURE_RUNBOOKS)) await fs.copyFile(path.join(FIXTURE_RUNBOOKS, file), path.join(dir, file));
  return dir;
}

/**
 * A copy of the shipped runbooks plus one runbook of the test's own (`file`, `text`), routed from each of `monIds`
 * (critical, paging backend-oncall), so each test incident gets an incident of its own on that runbook.
 */
export async function copyRunbooksWith(file: string, text: string, monIds: string[], title: string): Promise<string> {
  const dir = await copyRunbooks();
  await fs.writeFile(path.join(dir, file), text);
  const runbookId = text.slice(0, text.indexOf(':'));
  const matrix = await fs.readFile(path.join(dir, 'matrix.yml'), 'utf8');
  const routes = monIds.map((mon) => `  ${mon}:\n    title: ${title} ${mon}\n    runbook: ${runbookId}\n    severity: critical\n    escalation: [backend-oncall]\n`);
  await fs.writeFile(path.join(dir, 'matrix.yml'), `${matrix}${routes.join('')}`);
  return dir;
}

export interface AmAlert {
  fingerprint: string;
  monId?: string | null;
  status?: 'firing' | 'resolved';
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  generatorURL?: string;
}

/** An Alertmanager webhook body (version 4), one alert per entry. */
export function alertmanagerBody(alerts: AmAlert[]): string {
  const items = alerts.map((a) => {
    const labels: Record<string, string> = { alertname: 'PostgresConnectionsSaturated', instance: 'pg-primary-1:9187', severity: 'critical', ...(a.labels ?? {}) };
    if (a.monId !== null) labels.mon_id = a.monId ?? 'MON-005';
    const resolved = a.status === 'resolved';
    return {
      status: a.status ?? 'firing',
      labels,
      annotations: { summary: 'Connection pool above 90% on pg-primary-1', ...(a.annotations ?? {}) },
      startsAt: a.startsAt ?? '2026-08-14T09:18:45.512Z',
      endsAt: resolved ? '2026-08-14T10:30:00Z' : '0001-01-01T00:00:00Z',
      generatorURL: a.generatorURL ?? 'http://prometheus-0:9090/graph?g0.expr=pg_stat_activity_count',
      fingerprint: a.fingerprint,
    };
  });
  return `${JSON.stringify({
    receiver: 'runbook-router',
    status: alerts.some((a) => a.status !== 'resolved') ? 'firing' : 'resolved',
    alerts: items,
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager-0:9093',
    version: '4',
    groupKey: `{}:{fp="${alerts.map((a) => a.fingerprint).join(',')}"}`,
    truncatedAlerts: 0,
  })}\n`;
}

/** The value of the first hidden `_csrf` field of a page. */
export function csrfToken(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token on the page');
  return match[1]!;
}

/** The incident id of a 202 webhook answer. */
export function incidentIdOf(res: Awaited<Test>): number {
  const id = (res.body as { incidents?: number[] }).incidents?.[0];
  if (typeof id !== 'number') throw new Error(`no incident id in ${JSON.stringify(res.body)}`);
  return id;
}

/** POST /webhooks/alertmanager with a JSON body, as Alertmanager sends it. */
export function postAlertmanager(app: Express, body: string): Test {
  return request(app).post('/webhooks/alertmanager').set('Content-Type', 'application/json').send(body);
}

/** The HTML incident page of `id`, which must answer 200. */
export async function incidentPage(app: Express, id: number): Promise<string> {
  return (await request(app).get(`/incidents/${id}`).set('Accept', 'text/html').expect(200)).text;
}
