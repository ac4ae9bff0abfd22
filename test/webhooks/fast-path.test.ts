import { createServer } from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookSecrets } from '../../src/app.js';
import { systemClock } from '../../src/clock.js';
import { webhookFastPath } from '../../src/http/webhooks.js';
import { createIngestBatcher } from '../../src/incidents/ingest-batcher.js';
import { receiveBatch } from '../../src/incidents/receive.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert, wireBody } from '../support/webhook-payloads.js';

// The listening server answers plain webhook URLs without Express (webhookFastPath); it must answer exactly as the app does.
let database: TestDatabase;
let service: Service;
let url: string;

const send = (path: string, body: string, init: { method?: string; headers?: Record<string, string> } = {}, base = url) =>
  fetch(`${base}${path}`, { method: init.method ?? 'POST', headers: { 'content-type': 'application/json', ...init.headers }, body });

/** The value of one sample in /metrics (0 when it has not been recorded yet). */
const sample = async (line: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : 0;
};

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, { MAX_BODY_BYTES: '20000' });
  url = (await service.start()).url;
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

describe('webhooks on the listening server (fast path)', () => {
  it('accepts a delivery with 202 and the incident ids, as JSON', async () => {
    const res = await send('/webhooks/alertmanager', alertmanagerAlert({ monId: 'MON-005', fingerprint: 'fast000000000001' }));
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { incidents: number[]; duplicate: boolean; alerts: number };
    expect(body).toMatchObject({ duplicate: false, alerts: 1 });
    expect(body.incidents).toHaveLength(1);
  });

  it('answers a repeat as a duplicate of the same incident', async () => {
    const delivery = alertmanagerAlert({ monId: 'MON-005', fingerprint: 'fast000000000002' });
    const first = (await (await send('/webhooks/alertmanager', delivery)).json()) as { incidents: number[] };
    const again = await send('/webhooks/alertmanager', delivery);
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ incidents: first.incidents, duplicate: true, alerts: 1 });
  });

  it('takes a query string, and unusual spellings of the URL go through Express to the same route', async () => {
    expect((await send('/webhooks/alertmanager?from=test', alertmanagerAlert({ monId: 'MON-005', fingerprint: 'fast000000000003' }))).status).toBe(202);
    expect((await send('/webhooks/alertmanager/', alertmanagerAlert({ monId: 'MON-005', fingerprint: 'fast000000000004' }))).status).toBe(202);
    expect((await send('/webhooks/%61lertmanager', alertmanagerAlert({ monId: 'MON-005', fingerprint: 'fast000000000005' }))).status).toBe(202);
  });

  it('answers 404, 405, 400 and 413 as the app does', async () => {
    const unknown = await send('/webhooks/nagios', '{}');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/unknown source "nagios"/);
    const put = await send('/webhooks/alertmanager', wireBody('alertmanager-firing'), { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('POST');
    expect((await send('/webhooks/grafana', wireBody('grafana-firing'), { method: 'PUT' })).status).toBe(202);
    const bad = await send('/webhooks/alertmanager', '{"alerts": 3}');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/invalid alertmanager payload/);
    expect((await send('/webhooks/alertmanager', '   ')).status).toBe(400);
    expect((await send('/webhooks/alertmanager', JSON.stringify({ pad: 'x'.repeat(30_000) }))).status).toBe(413);
  });

  it('leaves every other request to Express', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/webhooks/alertmanager`)).status).toBe(404);
  });

  it('answers plain webhook URLs itself and hands only the rest to its fallback', async () => {
    // The same listener the service builds, over the test service's database, with a fallback that records what reaches it.
    const ingest = createIngestBatcher({
      maxWaitMs: 1,
      maxSize: 10,
      concurrency: 1,
      commit: async (deliveries) =>
        (await receiveBatch(service.db.db, deliveries, () => ({ routing: service.routing(), now: new Date(), reopenWindowMs: service.config.reopenWindowMs, flappingAfter: service.config.flappingAfter }))).outcomes,
    });
    const fellBack: string[] = [];
    const listener = webhookFastPath(
      { db: service.db.db, ingest, secrets: webhookSecrets(service.config), maxBodyBytes: service.config.maxBodyBytes, answerWithinMs: 5000, clock: systemClock, metrics: service.metrics, logger: service.logger },
      (req, res) => {
        fellBack.push(`${req.method} ${req.url}`);
        service.app(req, res);
      },
    );
    const server = createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    try {
      expect((await send('/webhooks/alertmanager', alertmanagerAlert({ monId: 'MON-005', fingerprint: 'fast000000000010' }), {}, base)).status).toBe(202);
      expect((await send('/webhooks/grafana?org=1', wireBody('grafana-firing'), { method: 'PUT' }, base)).status).toBe(202);
      expect((await send('/webhooks/nagios', '{}', {}, base)).status).toBe(404);
      expect(fellBack).toEqual([]);
      expect((await send('/webhooks/alertmanager/', alertmanagerAlert({ monId: 'MON-005', fingerprint: 'fast000000000011' }), {}, base)).status).toBe(202);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect(fellBack).toEqual(['POST /webhooks/alertmanager/', 'GET /healthz']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await ingest.drain();
    }
  });

  it('times and counts each fast-path request in /metrics, once', async () => {
    const ok = 'runbook_router_http_request_duration_seconds_count{route="webhook",status="2xx"}';
    const refused = 'runbook_router_http_request_duration_seconds_count{route="webhook",status="4xx"}';
    const accepted = 'runbook_router_deliveries_total{source="alertmanager",outcome="accepted"}';
    const duplicate = 'runbook_router_deliveries_total{source="alertmanager",outcome="duplicate"}';
    const firing = 'runbook_router_alerts_total{source="alertmanager",status="firing"}';
    const before = { ok: await sample(ok), refused: await sample(refused), accepted: await sample(accepted), duplicate: await sample(duplicate), firing: await sample(firing) };
    const delivery = alertmanagerAlert({ monId: 'MON-005', fingerprint: 'fast000000000020' });
    expect((await send('/webhooks/alertmanager', delivery)).status).toBe(202);
    expect((await send('/webhooks/alertmanager', delivery)).status).toBe(202);
    expect((await send('/webhooks/alertmanager', '{"alerts": 3}')).status).toBe(400);
    expect(await sample(ok)).toBe(before.ok + 2);
    expect(await sample(refused)).toBe(before.refused + 1);
    expect(await sample(accepted)).toBe(before.accepted + 1);
    expect(await sample(duplicate)).toBe(before.duplicate + 1);
    // The duplicate's alert is not counted again: retries must not read as more alerts.
    expect(await sample(firing)).toBe(before.firing + 1);
  });

  it('counts a sender that hangs up mid-body as aborted, answers nothing and keeps nothing', async () => {
    const before = await service.db.db.selectFrom('alert_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const { port, hostname } = new URL(url);
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => {
        socket.write('POST /webhooks/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"receiver":');
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    let text = '';
    for (let i = 0; i < 50 && !/outcome="aborted"\} 1/.test(text); i++) {
      await new Promise((r) => setTimeout(r, 20));
      text = await (await fetch(`${url}/metrics`)).text();
    }
    expect(text).toMatch(/runbook_router_deliveries_total\{source="alertmanager",outcome="aborted"\} 1/);
    expect(text).not.toMatch(/outcome="error"/);
    const after = await service.db.db.selectFrom('alert_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('closes the connection after a 413, so the rest of an oversized body is not read on it', async () => {
    const res = await send('/webhooks/alertmanager', JSON.stringify({ pad: 'x'.repeat(30_000) }));
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
  });
});
