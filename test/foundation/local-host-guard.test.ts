import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert } from '../support/webhook-payloads.js';

// Local mode trusts whoever reaches it and listens on loopback only; a page on a domain rebound to 127.0.0.1 reaches
// it too, same-origin to the browser, with its own name in Host.
let database: TestDatabase;
let service: Service;
let port: number;

function send(method: string, path: string, host: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host, origin: `http://${host}`, 'sec-fetch-site': 'same-origin' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, { PUBLIC_URL: 'http://runbooks.internal:3000' });
  port = Number(new URL((await service.start()).url).port);
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

describe('local mode behind a rebinding domain', () => {
  it('answers 421 to a Host that is not loopback or PUBLIC_URL, for pages, the API and webhooks, and changes nothing', async () => {
    const foreign = `rebind.attacker.example:${port}`;
    const page = await send('GET', '/', foreign);
    expect(page.status).toBe(421);
    expect(page.text).toContain('is not this service');
    expect((await send('GET', '/api/incidents', foreign)).status).toBe(421);
    expect((await send('POST', '/webhooks/alertmanager', foreign, alertmanagerAlert({ monId: 'MON-005', fingerprint: 'bad0000000000001' }))).status).toBe(421);
    expect(await service.db.db.selectFrom('alert_events').select('id').execute()).toEqual([]);
  });

  it('answers its own names as before', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `localhost.:${port}`, `rr.localhost:${port}`, `[::1]:${port}`, 'runbooks.internal:3000', 'Runbooks.Internal.:3000']) {
      expect((await send('GET', '/api/incidents', host)).status, host).toBe(200);
    }
    expect((await send('POST', '/webhooks/alertmanager', `localhost:${port}`, alertmanagerAlert({ monId: 'MON-005', fingerprint: 'good000000000001' }))).status).toBe(202);
  });
});
