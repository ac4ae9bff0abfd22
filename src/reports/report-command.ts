// `runbook-router report [--week 2026-W47] [--format markdown|json]`: prints the weekly report of any week (default:
// the current one in REPORT_TZ) from the configured database and RUNBOOKS_DIR, and stores nothing. It reads inside a
// read-only transaction and never migrates. On the embedded database, stop the service first: only one process may
// open a PGlite data directory.
import { existsSync } from 'node:fs';
import { sql } from 'kysely';
import { loadConfigOrSay } from '../config.js';
import { asksForHelp } from '../help-flag.js';
import { createDb } from '../db/create-db.js';
import { loadCatalog } from '../runbooks/catalog.js';
import type { LintIo } from '../runbooks/lint-command.js';
import { buildWeeklyReport } from './build-report.js';
import { formatIsoWeek, isoWeekOf, parseIsoWeek } from './iso-week.js';
import { renderReportMarkdown } from './render-report-markdown.js';

/** The same writers, clock and environment as `lint`. */
export type ReportIo = LintIo;

const USAGE = 'usage: runbook-router report [--week 2026-W47] [--format markdown|json]   (the current week in REPORT_TZ by default)';

export async function runReport(args: string[], io: ReportIo): Promise<number> {
  if (asksForHelp(args)) {
    io.out(USAGE);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    io.err(`runbook-router report: ${parsed}\n${USAGE}`);
    return 2;
  }
  const config = loadConfigOrSay(io.env, io.err);
  if (!config) return 2;
  const week = parsed.week ?? isoWeekOf(io.now, config.report.timeZone);
  const catalog = await loadCatalog(config.runbooksDir).catch((error: Error) => error);
  if (catalog instanceof Error) {
    io.err(`runbook-router report: cannot read the runbooks in ${config.runbooksDir}: ${catalog.message}`);
    return 2;
  }
  // Opening an embedded data directory that is not there would create an empty database in it, and then fail.
  if (!config.databaseUrl && !existsSync(config.dataDir)) {
    io.err(`runbook-router report: no database in ${config.dataDir} yet; start the service once (npm start) or run "runbook-router migrate", or set DATA_DIR or DATABASE_URL to where its data is`);
    return 1;
  }
  let db;
  try {
    db = await createDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
  } catch (error) {
    io.err(`runbook-router report: cannot open the database: ${(error as Error).message}`);
    return 1;
  }
  try {
    const report = await db.db.transaction().execute(async (tx) => {
      await sql`set transaction read only`.execute(tx);
      return buildWeeklyReport(tx, catalog, week, io.now, { timeZone: config.report.timeZone, staleAfterDays: config.staleAfterDays });
    });
    io.out(parsed.format === 'json' ? JSON.stringify(report, null, 2) : renderReportMarkdown(report, { publicUrl: config.publicUrl }));
    return 0;
  } catch (error) {
    const message = (error as Error).message;
    io.err(`runbook-router report: ${message}${/does not exist/.test(message) ? ' (is the database migrated? run "runbook-router migrate")' : ''}`);
    return 1;
  } finally {
    await db.close();
  }
}

function parseArgs(args: string[]): { week: string | null; format: 'markdown' | 'json' } | string {
  let week: string | null = null;
  let format: 'markdown' | 'json' = 'markdown';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? args[++i];
    if (flag === '--week') {
      const text = value();
      if (!text) return '--week needs a week like 2026-W47';
      try {
        week = formatIsoWeek(parseIsoWeek(text));
      } catch (error) {
        return (error as Error).message;
      }
    } else if (flag === '--format') {
      const text = value();
      if (text !== 'markdown' && text !== 'json') return `--format must be markdown or json, got ${JSON.stringify(text ?? '')}`;
      format = text;
    } else {
      return `unknown argument ${JSON.stringify(arg)}`;
    }
  }
  return { week, format };
}
