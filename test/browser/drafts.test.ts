// Half-typed text survives the page's own navigations. Every checkbox is its own form, so a responder who types half a
// note (or a drill's gaps), then ticks a step, gets a fresh page: the script keeps the draft in the tab and puts it back,
// and forgets it once its own form has been sent and accepted.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { alertmanagerBody, FIXTURE_RUNBOOKS } from '../http/helpers.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let database: TestDatabase;
let service: Service;
let baseUrl: string;
let browser: Browser;

async function fire(fingerprint: string): Promise<number> {
  const res = await fetch(`${baseUrl}/webhooks/alertmanager`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: alertmanagerBody([{ fingerprint }]) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { incidents: number[] }).incidents[0]!;
}

async function tickFirstBox(page: Page) {
  await page.locator('#runbook li.check button.box:not([disabled])').first().click();
  await page.waitForURL(/#check-/);
}

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, { RUNBOOKS_DIR: FIXTURE_RUNBOOKS });
  baseUrl = (await service.start()).url;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
afterAll(async () => {
  await browser?.close();
  await service?.stop();
  await database?.drop();
});

describe('drafts in chromium', () => {
  it('a half-typed note survives ticking a step, and is gone once the note is added', async () => {
    const id = await fire('d4af7000000000001');
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${baseUrl}/incidents/${id}`);
    await page.locator('#note-text').fill('pid 4242 holds 80 connections; about to');
    await tickFirstBox(page);
    expect(await page.locator('#note-text').inputValue()).toBe('pid 4242 holds 80 connections; about to');

    await page.getByRole('button', { name: 'Add note', exact: true }).click();
    await page.waitForURL(/#timeline$/);
    expect(await page.locator('#note-text').inputValue()).toBe('');
    await page.reload();
    expect(await page.locator('#note-text').inputValue()).toBe('');
    // Another tab of the same incident never gets this tab's draft (it would post the note twice).
    await page.locator('#note-text').fill('only in the first tab');
    const other = await context.newPage();
    await other.goto(`${baseUrl}/incidents/${id}`);
    expect(await other.locator('#note-text').inputValue()).toBe('');
    await context.close();
  });

  it('a note the server refuses stays a draft for the next try', async () => {
    const id = await fire('d4af7000000000002');
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${baseUrl}/incidents/${id}`);
    await page.locator('#note-text').fill('failover done at 03:12; replica lag back under 1s');
    // The form token's cookie is gone (expired, cleared): the post is refused with an error page.
    await context.clearCookies({ name: 'rr_csrf' });
    await page.getByRole('button', { name: 'Add note', exact: true }).click();
    await page.locator('.error-card').waitFor();
    expect(await page.locator('.error-card h1').textContent()).toBe('Form refused');
    await page.getByRole('link', { name: 'Reload the page' }).click();
    await page.waitForURL(new RegExp(`/incidents/${id}$`));
    expect(await page.locator('#note-text').inputValue()).toBe('failover done at 03:12; replica lag back under 1s');

    await page.getByRole('button', { name: 'Add note', exact: true }).click();
    await page.waitForURL(/#timeline$/);
    expect(await page.locator('#note-text').inputValue()).toBe('');
    await page.reload();
    expect(await page.locator('#note-text').inputValue()).toBe('');
    await context.close();
  });

  it("a note lost to a proxy's 502 stays a draft: only the service's own answer says it was accepted", async () => {
    const id = await fire('d4af7000000000003');
    // A reverse proxy in front of the service whose first POST gets the gateway's own error page, as when the service
    // restarts behind nginx; everything else passes through.
    let posts = 0;
    const proxy = http.createServer((req, res) => {
      if (req.method === 'POST' && posts++ === 0) {
        req.resume();
        res.writeHead(502, { 'Content-Type': 'text/html' }).end('<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>');
        return;
      }
      const upstream = http.request(`${baseUrl}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const viaProxy = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${viaProxy}/incidents/${id}`);
      await page.locator('#note-text').fill('rolled back deploy 4711 at 03:20');
      await page.getByRole('button', { name: 'Add note', exact: true }).click();
      await page.getByText('502 Bad Gateway').waitFor();
      // The responder opens the incident again: the note is still there to send.
      await page.goto(`${viaProxy}/incidents/${id}`);
      expect(await page.locator('#note-text').inputValue()).toBe('rolled back deploy 4711 at 03:20');

      await page.getByRole('button', { name: 'Add note', exact: true }).click();
      await page.waitForURL(/#timeline$/);
      expect(await page.locator('#note-text').inputValue()).toBe('');
      await page.goto(`${viaProxy}/incidents/${id}`);
      expect(await page.locator('#note-text').inputValue()).toBe('');
      expect(await page.locator('#timeline').textContent()).toContain('rolled back deploy 4711 at 03:20');
    } finally {
      await context.close();
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it("a drill's gaps survive ticking its steps", async () => {
    const res = await fetch(`${baseUrl}/api/drills`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ runbookId: 'RUN-001' }) });
    expect(res.status).toBe(201);
    const drill = (await res.json()) as { id: number };
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${baseUrl}/drills/${drill.id}`);
    await page.locator('#drill-gaps').fill('Step 1: the command needs the replica host, not the primary');
    await tickFirstBox(page);
    await tickFirstBox(page);
    expect(await page.locator('#drill-gaps').inputValue()).toBe('Step 1: the command needs the replica host, not the primary');
    await context.close();
  });
});
