import { loadConfigOrSay } from './config.js';
import { asksForHelp } from './help-flag.js';
import { createDb } from './db/create-db.js';
import { migrateToLatest } from './db/migrate.js';

const USAGE = `usage: runbook-router <command>

  serve                       start the service (default)
  migrate                     apply database migrations and exit
  lint [DIR] [--format json] [--strict]
                              check runbooks and matrix.yml (default ./runbooks)
  report [--week 2026-W47] [--format markdown|json]
                              print the weekly report
  demo [URL] [--keep-open]    post the example alerts of every source to a running service
                              (--keep-open: without the recoveries, so the incidents stay open)
  sink [PORT]                 print the notifications the example matrix sends (default port 9099)
  hash-password [PASSWORD]    print a scrypt hash for RESPONDERS (reads stdin when no argument)
`;

const SERVE_USAGE = 'usage: runbook-router serve   (takes no arguments: PORT, HOST, DATABASE_URL and the other settings come from the environment, see README.md)';
const MIGRATE_USAGE = 'usage: runbook-router migrate   (takes no arguments: applies the migrations to DATABASE_URL, else the embedded database in DATA_DIR, and exits)';

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

/**
 * For a command that takes no arguments: null when none were given; else its usage and the exit code, 0 for
 * `--help`, 2 for anything else (as lint and report answer an unknown option), before the command does anything.
 */
function refuseArguments(command: string, args: string[], usage: string): number | null {
  if (!args.length) return null;
  if (asksForHelp(args)) {
    out(usage);
    return 0;
  }
  const first = args[0]!;
  err(`runbook-router ${command}: ${first.startsWith('-') ? `unknown option ${first}` : `unexpected argument ${JSON.stringify(first)}`}\n${usage}`);
  return 2;
}

export async function runCli(argv: string[]): Promise<number> {
  const [command = 'serve', ...args] = argv;
  const env = process.env;
  switch (command) {
    case 'serve': {
      const refused = refuseArguments('serve', args, SERVE_USAGE);
      if (refused !== null) return refused;
      const { serve } = await import('./main.js');
      return serve(env, err);
    }
    case 'migrate': {
      const refused = refuseArguments('migrate', args, MIGRATE_USAGE);
      if (refused !== null) return refused;
      const config = loadConfigOrSay(env, err);
      if (!config) return 2;
      try {
        const db = await createDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
        try {
          const applied = await migrateToLatest(db.db);
          out(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
        } finally {
          await db.close();
        }
        return 0;
      } catch (error) {
        err(`migrate failed: ${(error as Error).message}`);
        return 1;
      }
    }
    case 'lint': {
      const { runLint } = await import('./runbooks/lint-command.js');
      return runLint(args, { out, err, now: new Date(), env });
    }
    case 'demo': {
      const { runDemo } = await import('./demo-command.js');
      return runDemo(args, { out, err, config: () => loadConfigOrSay(env, err) });
    }
    case 'report': {
      const { runReport } = await import('./reports/report-command.js');
      return runReport(args, { out, err, now: new Date(), env });
    }
    case 'sink': {
      const { runSink } = await import('./sink-command.js');
      return runSink(args, { out, err });
    }
    case 'hash-password': {
      const { readAll, runHashPassword } = await import('./responders/hash-password-command.js');
      return runHashPassword(args, { out, err, readStdin: () => readAll(process.stdin) });
    }
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return 0;
    default:
      err(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}
