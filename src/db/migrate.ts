import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Migrator, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely/migration';
import { PROJECT_ROOT, RUNNING_BUILD } from '../project-root.js';
import type { Db } from './create-db.js';
import { isTransientDbError } from './transient-error.js';

/** The TypeScript migrations, or their compiled copies when this is the build in dist/ (which has no TypeScript loader). */
export const MIGRATIONS_DIR = RUNNING_BUILD ? path.join(PROJECT_ROOT, 'dist/migrations') : path.join(PROJECT_ROOT, 'migrations');
const MIGRATION_FILE = RUNNING_BUILD ? /^(\d+_[\w-]+)\.js$/ : /^(\d+_[\w-]+)\.ts$/;

/**
 * Imports every migration file itself rather than through Kysely's FileMigrationProvider, so the import goes through
 * whatever loads our TypeScript (tsx from the sources, vitest in tests) instead of Node's bare loader; the build imports
 * its compiled copies.
 */
const folderProvider: MigrationProvider = {
  async getMigrations() {
    const files = (await fs.readdir(MIGRATIONS_DIR)).filter((f) => MIGRATION_FILE.test(f)).sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      migrations[MIGRATION_FILE.exec(file)![1]!] = (await import(pathToFileURL(path.join(MIGRATIONS_DIR, file)).href)) as Migration;
    }
    return migrations;
  },
};

function migrator(db: Db): Migrator {
  return new Migrator({ db, provider: folderProvider });
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const result: MigrationResultSet = await migrator(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    if (failed) throw new Error(`migration ${failed.migrationName} failed: ${reason}`);
    // No migration ran: the database was not reached, or its migration records disagree with migrations/.
    throw new Error(isTransientDbError(result.error) ? `the database could not be reached (${reason}); check DATABASE_URL and that the server is up` : `migrations could not start: ${reason}`);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of migrations on disk that the database has not applied yet. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const migrations = await migrator(db).getMigrations();
  return migrations.filter((m) => !m.executedAt).map((m) => m.name);
}
