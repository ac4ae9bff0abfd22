import path from 'node:path';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOURCES } from '../../src/alerts/alert.js';
import { loadConfig } from '../../src/config.js';
import { createService } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { ROOT } from '../support/test-service.js';
import { wireBody } from '../support/webhook-payloads.js';

// The start-up warning is the only sign that a source accepts anyone; it must name every such source, and only those.
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

/** Starts the service with `env`, keeps its log lines, and hands the running service to `use` before stopping it. */
async function withService(env: Record<string, string>, use: (app: Parameters<typeof request>[0]) => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATA_DIR: database.dataDir,
    RUNBOOKS_DIR: path.join(ROOT, 'runbooks'),
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const service = await createService(config, { logger, backgroundLoops: false });
  try {
    await use(service.app);
  } finally {
    await service.stop();
  }
  return lines;
}

const warnings = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === 'webhook sources without a secret accept unauthenticated deliveries');

describe('webhook sources without a secret', () => {
  it('are each named in one start-up warning, and accept deliveries without credentials', async () => {
    const lines = await withService({ DATADOG_WEBHOOK_TOKEN: 'dd-token' }, async (app) => {
      await request(app).post('/webhooks/alertmanager').set('Content-Type', 'application/json').send(wireBody('alertmanager-firing')).expect(202);
      await request(app).post('/webhooks/datadog').set('Content-Type', 'application/json').send(wireBody('datadog-triggered')).expect(401);
    });
    expect(warnings(lines).map((l) => l.sources)).toEqual([SOURCES.filter((s) => s !== 'datadog')]);
  });

  it('give no warning once every source has its secret', async () => {
    const lines = await withService(
      { DATADOG_WEBHOOK_TOKEN: 'dd-token', GRAFANA_WEBHOOK_HMAC_SECRET: 'g-secret', ALERTMANAGER_WEBHOOK_TOKEN: 'am-token', PAGERDUTY_WEBHOOK_SECRETS: 'pd-secret' },
      async () => {},
    );
    expect(warnings(lines)).toEqual([]);
  });
});

describe('REPORT_CONTACTS naming a contact the matrix does not have', () => {
  it('is warned of at start, naming only the unknown ones', async () => {
    const lines = await withService({ REPORT_CONTACTS: 'db-lead,nobody' }, async () => undefined);
    const warned = lines.filter((l) => l.msg === 'REPORT_CONTACTS names contacts the matrix does not have; the weekly report will not be sent to them');
    expect(warned.map((l) => l.contacts)).toEqual([['nobody']]);
    expect((await withService({ REPORT_CONTACTS: 'db-lead' }, async () => undefined)).filter((l) => String(l.msg).startsWith('REPORT_CONTACTS'))).toEqual([]);
  });
});
