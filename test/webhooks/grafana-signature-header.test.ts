import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { NO_SECRETS, signedHeaders, wireBody } from '../support/webhook-payloads.js';

// Grafana releases differ in the header their HMAC signature goes under when the contact point keeps its default.
const clock = fixedClock('2026-08-14T09:40:05Z');
const SECRET = 'grafana-secret';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

async function withService(env: Record<string, string>, use: (service: Service) => Promise<void>): Promise<void> {
  const service = await createTestService(database, { GRAFANA_WEBHOOK_HMAC_SECRET: SECRET, ...env }, { clock });
  try {
    await use(service);
  } finally {
    await service.stop();
  }
}

/** The firing example, signed the way Grafana signs it, with the signature under `header`. */
function signedUnder(header: string, edit?: (body: any) => void) {
  const body = wireBody('grafana-firing', edit);
  return { body, headers: signedHeaders('grafana', body, { ...NO_SECRETS, grafanaHmac: SECRET, grafanaSignatureHeader: header }, clock.now()) };
}

const post = (service: Service, { body, headers }: ReturnType<typeof signedUnder>) => request(service.app).post('/webhooks/grafana').set(headers).send(body);

describe('Grafana signature header', () => {
  it('with GRAFANA_SIGNATURE_HEADER unset, accepts a signature under either default name and still checks it', async () => {
    await withService({}, async (service) => {
      await post(service, signedUnder('X-Grafana-Alerting-Signature')).expect(202);
      await post(service, signedUnder('X-Grafana-Alert-Signature', (b) => (b.alerts[0].fingerprint = 'f00dfeedf00dfeed'))).expect(202);
      const forged = signedUnder('X-Grafana-Alert-Signature');
      forged.headers['X-Grafana-Alert-Signature'] = '0'.repeat(64);
      expect((await post(service, forged).expect(401)).body.error).toBe('authentication failed: X-Grafana-Alert-Signature does not match the timestamp and body');
    });
  });

  it('with GRAFANA_SIGNATURE_HEADER set, accepts only that name', async () => {
    await withService({ GRAFANA_SIGNATURE_HEADER: 'X-Grafana-Alerting-Signature' }, async (service) => {
      expect((await post(service, signedUnder('X-Grafana-Alert-Signature')).expect(401)).body.error).toBe('authentication failed: missing X-Grafana-Alerting-Signature header');
      await post(service, signedUnder('X-Grafana-Alerting-Signature')).expect(202);
    });
  });
});
