// Half-typed text survives the page's own navigations. Every checkbox is its own form, so a responder who types half a
// note (or a drill's gaps), then ticks a step, gets a fresh page: the script keeps the draft in the tab and puts it back,
// and forgets it once its own form has been sent and accepted.
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
