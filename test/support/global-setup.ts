import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDb } from '../../src/db/create-db.js';
import { migrateToLatest } from '../../src/db/migrate.js';

/**
 * On the embedded database, creating and migrating a PGlite data directory costs seconds; copying a migrated one costs
 * a fraction of that. Build it once per run; each test file then starts from a copy (see createTestDatabase).
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) return async () => undefined;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rr-template-'));
  const handle = await createDb({ databaseUrl: null, dataDir: dir });
  await migrateToLatest(handle.db);
  await handle.close();
  process.env.RR_TEST_TEMPLATE_DIR = path.join(dir, 'pglite');
  return () => fs.rm(dir, { recursive: true, force: true });
}
