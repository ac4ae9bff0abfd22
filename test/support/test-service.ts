import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixedClock, type Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createService, type Service } from '../../src/service.js';
import type { TestDatabase } from './test-database.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHIPPED_RUNBOOKS = path.join(ROOT, 'runbooks');

/** The service exactly as `serve` builds it, on the test's database, quiet, on a free port. */
export async function createTestService(database: TestDatabase, env: Record<string, string> = {}, options: { clock?: Clock; backgroundLoops?: boolean } = {}): Promise<Service> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATA_DIR: database.dataDir,
    RUNBOOKS_DIR: SHIPPED_RUNBOOKS,
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  return createService(config, { clock: options.clock, backgroundLoops: options.backgroundLoops ?? false });
}

export { fixedClock };
