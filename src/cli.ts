import { loadConfig, ConfigError } from './config.js';
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

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

export async function runCli(argv: string[]): Promise<number> {
  const [command = 'serve', ...args] = argv;
  const env = process.env;
  switch (command) {
    case 'serve': {
      const { serve } = await import('./main.js');
      return serve(env, err);
    }
    case 'migrate': {
      try {
        const config = loadConfig(env);
        const db = await createDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
        try {
          const applied = await migrateToLatest(db.db);
          out(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
        } finally {
          await db.close();
        }
        return 0;
      } catch (error) {
        if (error instanceof ConfigError) error.problems.forEach((p) => err(`config: ${p}`));
        else err(`migrate failed: ${(error as Error).message}`);
        return 1;
      }
    }
    case 'lint': {
      const { runLint } = await import('./runbooks/lint-command.js');
      return runLint(args, { out, err, now: new Date(), env });
    }
    case 'demo': {
      const { runDemo } = await import('./demo-command.js');
      return runDemo(args, { out, err, env });
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
