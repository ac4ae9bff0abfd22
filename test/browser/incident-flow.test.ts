// The responder's flow in a real browser (Debian's chromium through playwright-core), against the real service on a free
// port: an alert through the real webhook, the incident list, the incident page, ticking a step, acknowledging,
// resolving, ticking a follow-up — once with JavaScript and once without. Hostile alert content must render as text and
// run nothing; the pages must not trip the Content-Security-Policy.
import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { alertmanagerBody, FIXTURE_RUNBOOKS } from '../http/helpers.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService, ROOT } from '../support/test-service.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const RESULTS = path.join(ROOT, 'test-results');

const XSS_SUMMARY = 'Pool above 90% <script>window.pwned = "script"</script>';
const XSS_LABEL = '<img src=x onerror="window.pwned = \'img\'">';

let database: TestDatabase;
let service: Service;
let baseUrl: string;
let browser: Browser;

/** Everything that would mean a payload ran or a page broke its own policy. */
interface Watch {
  dialogs: string[];
  problems: string[];
}

async function open(context: BrowserContext): Promise<{ page: Page; watch: Watch }> {
  const page = await context.newPage();
  const watch: Watch = { dialogs: [], problems: [] };
  page.on('dialog', (d) => {
    watch.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => watch.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') watch.problems.push(`console: ${m.text()}`);
  });
  return { page, watch };
}

async function fire(fingerprint: string): Promise<number> {
  const res = await fetch(`${baseUrl}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: alertmanagerBody([{ fingerprint, labels: { team: XSS_LABEL }, annotations: { summary: XSS_SUMMARY, description: 'pool at 96%' } }]),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { incidents: number[] }).incidents[0]!;
}

const text = async (page: Page, selector: string) => ((await page.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();

/** The whole responder flow on one incident; returns when the first follow-up is ticked. */
async function respond(page: Page, incidentId: number, options: { screenshots: boolean }) {
  await page.goto(`${baseUrl}/`);
  const row = page.locator('tr.row', { has: page.locator(`a[href="/incidents/${incidentId}"]`) });
  const rowText = ((await row.textContent()) ?? '').replace(/\s+/g, ' ');
  expect(rowText).toContain('critical');
  expect(rowText).toContain('MON-005');
  expect(rowText).toContain('Database connection pool above 90%');
  expect(rowText).toContain('triggered');
  expect(rowText).toContain('unassigned');
  expect(await text(page, '.banner-local')).toContain('Local mode');

  await page.locator(`a[href="/incidents/${incidentId}"]`).click();
  await page.waitForURL(`${baseUrl}/incidents/${incidentId}`);
  expect(await text(page, 'h1')).toBe('MON-005 Database connection pool above 90%');
  expect(await text(page, '.runbook-line')).toContain('RUN-001 Database Connection Pool Exhaustion');
  expect(await text(page, '.badges')).toContain('Triggered');
  // The hostile values are visible as text: filled into the runbook and in the alert's labels.
  expect(await text(page, '#step-1 .prose')).toContain('(Pool above 90% <script>window.pwned = "script"</script>)');
  expect(await page.locator('#alerts td', { hasText: '<img src=x onerror=' }).count()).toBe(1);
  expect(await text(page, '#step-1 figure.command')).toContain('export PGHOST=$(echo "pg-primary-1:9187" | cut -d: -f1)');
  expect(await text(page, '#step-2 figure.command')).toContain('pg_cancel_backend(<problematic_pid>)');

  await page.getByRole('button', { name: 'Tick: Access to AWS RDS console' }).click();
  await page.waitForURL(/#check-prereq-1$/);
  expect(await page.locator('#check-prereq-1 button.box').getAttribute('aria-pressed')).toBe('true');
  expect(await text(page, '#check-prereq-1 .check-meta')).toMatch(/^Ticked by local · \d{4}-\d\d-\d\d \d\d:\d\d UTC/);

  await page.getByRole('button', { name: 'Acknowledge', exact: true }).click();
  await page.waitForURL(`${baseUrl}/incidents/${incidentId}`);
  expect(await text(page, '.badges')).toContain('Acknowledged');
  expect(await text(page, '.facts')).toContain('Acknowledged local');
  expect(await page.getByRole('button', { name: 'Acknowledge', exact: true }).count()).toBe(0);

  await page.getByRole('button', { name: /^Tick: Connection count ≥90% of max_connections on/ }).click();
  await page.waitForURL(/#check-step-1-v1$/);
  await page.getByRole('button', { name: 'Tick: Step 1: Verify Alert done' }).click();
  await page.waitForURL(/#check-step-1$/);
  expect(await page.locator('#step-1').getAttribute('class')).toContain('is-done');
  // Step 3 waits for step 2's manual checkpoint.
  expect(await page.getByRole('button', { name: 'Tick: MON-005 alert resolved' }).isDisabled()).toBe(true);
  await page.getByRole('button', { name: 'Tick: Confirm the manual checkpoint of step 2' }).click();
  await page.waitForURL(/#check-step-2-checkpoint$/);
  expect(await page.getByRole('button', { name: 'Tick: MON-005 alert resolved' }).isDisabled()).toBe(false);

  await page.locator('#note-text').fill('Killed pid 4242; pool draining <b>fast</b>');
  await page.getByRole('button', { name: 'Add note', exact: true }).click();
  await page.waitForURL(/#timeline$/);
  expect(await text(page, '.timeline .ev-note')).toBe(`${await text(page, '.timeline .ev-note time')} local Killed pid 4242; pool draining <b>fast</b>`);
  const timeline = await text(page, '.timeline');
  expect(timeline).toContain('local Acknowledged — escalation stopped');
  expect(timeline).toContain('local Ticked: Step 1: Verify Alert');
  expect(timeline).toContain('Incident opened from alertmanager (MON-005), critical, runbook RUN-001');

  if (options.screenshots) {
    await fs.mkdir(RESULTS, { recursive: true });
    await page.evaluate('window.scrollTo(0, 0)');
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: path.join(RESULTS, 'incident-page.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    // On a phone every section of the nav is on screen (wrapped if need be), none behind a sideways scroll.
    expect(await page.evaluate("(() => { const nav = document.querySelector('header.site nav'); return nav.scrollWidth - nav.clientWidth; })()")).toBeLessThanOrEqual(0);
    for (const link of await page.locator('header.site nav a').all()) {
      const box = (await link.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    await page.screenshot({ path: path.join(RESULTS, 'incident-page-phone.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: path.join(RESULTS, 'incident-page-phone-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  // The alert still fires: the header says so, and Resolve asks once before resolving (a page, no script needed).
  expect(await text(page, '.resolve-form .firing-note')).toBe('1 alert still firing');
  await page.getByRole('button', { name: 'Resolve', exact: true }).click();
  await page.waitForURL(`${baseUrl}/incidents/${incidentId}/resolve`);
  expect(await text(page, 'h1')).toBe('1 alert is still firing');
  expect(await text(page, '.confirm-card .lede')).toBe('Still firing at alertmanager. Resolve anyway?');
  if (options.screenshots) await page.screenshot({ path: path.join(RESULTS, 'resolve-confirm.png') });
  await page.getByRole('button', { name: 'Resolve anyway', exact: true }).click();
  await page.waitForURL(/#follow-ups$/);
  expect(await text(page, '.badges')).toContain('Resolved');
  expect(await text(page, '#follow-ups h2')).toBe('Post-incident follow-ups 2 open');
  await page.getByRole('button', { name: 'Mark done: Document incident timeline' }).click();
  await page.waitForURL(/#check-follow-post-1$/);
  expect(await text(page, '#check-follow-post-1 .check-meta')).toMatch(/^Done by local · \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  expect(await text(page, '#follow-ups h2')).toBe('Post-incident follow-ups 1 open');
  const retro = page.locator('#follow-ups a', { hasText: 'Retro summary' });
  expect(await retro.getAttribute('href')).toBe(`/incidents/${incidentId}/retro.md`);

  // The list now shows it under recently resolved.
  await page.goto(`${baseUrl}/`);
  expect(await text(page, '.incidents.resolved')).toContain(`#${incidentId} · MON-005 Database connection pool above 90%`);
}

beforeAll(async () => {
  database = await createTestDatabase();
  // A 1 ms reopen window: the second flow's alert opens a new incident instead of reopening the first.
  service = await createTestService(database, { RUNBOOKS_DIR: FIXTURE_RUNBOOKS, REOPEN_WINDOW: '1ms' }, { backgroundLoops: true });
  baseUrl = (await service.start()).url;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
afterAll(async () => {
  await browser?.close();
  await service?.stop();
  await database?.drop();
});

describe('the responder flow in chromium', () => {
  it('with JavaScript: every action works, payloads stay text, nothing runs, no CSP violations', async () => {
    const incidentId = await fire('e0e0000000000001');
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page, watch } = await open(context);
    await respond(page, incidentId, { screenshots: true });
    await page.goto(`${baseUrl}/incidents/${incidentId}`);
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(watch.dialogs).toEqual([]);
    expect(watch.problems).toEqual([]);
    // The small script runs under the CSP (it marks <html class="js">; a violation would have been reported above).
    expect(await page.locator('html.js').count()).toBe(1);
    await context.close();
  });

  it('without JavaScript: the same flow with plain HTML forms', async () => {
    const incidentId = await fire('e0e0000000000002');
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    const { page, watch } = await open(context);
    await respond(page, incidentId, { screenshots: false });
    expect(await page.locator('html.js').count()).toBe(0);
    expect(watch.dialogs).toEqual([]);
    expect(watch.problems).toEqual([]);
    await context.close();
    // Each flow recorded its own actions against its own incident.
    const checks = await service.db.db.selectFrom('step_checks').select(['step_key', 'checked_by']).where('incident_id', '=', incidentId).orderBy('id').execute();
    expect(checks).toEqual([
      { step_key: 'prereq-1', checked_by: 'local' },
      { step_key: 'step-1.v1', checked_by: 'local' },
      { step_key: 'step-1', checked_by: 'local' },
      { step_key: 'step-2.checkpoint', checked_by: 'local' },
    ]);
  });

  it('on a phone, light or dark, no page scrolls sideways', async () => {
    // Something on every page: an open incident, a scheduled drill, the report preview with its chart.
    const incidentId = await fire('e0e0000000000003');
    const drill = await fetch(`${baseUrl}/api/drills`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ runbookId: 'RUN-001', reason: 'A new on-call engineer rehearses the connection pool runbook' }) });
    expect(drill.status).toBe(201);
    const drillId = ((await drill.json()) as { id: number }).id;
    const pages = ['/', `/incidents/${incidentId}`, '/runbooks', '/runbooks/RUN-001', '/matrix', '/drills', `/drills/${drillId}`, '/reports', '/reports/preview'];
    for (const colorScheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme });
      const { page, watch } = await open(context);
      for (const url of pages) {
        const res = await page.goto(`${baseUrl}${url}`);
        expect(res?.status(), url).toBe(200);
        const widths = await page.evaluate<{ page: number; view: number }>('({ page: document.documentElement.scrollWidth, view: window.innerWidth })');
        expect(widths.page, `${url} (${colorScheme}) is ${widths.page}px wide on a ${widths.view}px screen`).toBeLessThanOrEqual(widths.view);
      }
      expect(watch.problems).toEqual([]);
      await context.close();
    }
  });
});
