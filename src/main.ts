import { loadConfig, ConfigError } from './config.js';
import { createService, StartRefused } from './service.js';
import { reloadWarnings } from './incidents/unreachable-contacts.js';

/** Listen errors that a setting causes, in the words that say which setting to change. */
const listenProblems = (host: string, port: number): Record<string, string> => ({
  EADDRINUSE: `PORT: ${host}:${port} is already in use by another process; stop it or choose another PORT`,
  EACCES: `PORT: not allowed to listen on ${host}:${port} (ports below 1024 need privileges); choose a PORT above 1023`,
  EADDRNOTAVAIL: `HOST: ${host} is not an address of this machine`,
});

/** `runbook-router serve`: config, database, migrations, listen, background loops, graceful shutdown on SIGTERM/SIGINT. */
export async function serve(env: Record<string, string | undefined>, err: (line: string) => void): Promise<number> {
  let service;
  try {
    service = await createService(loadConfig(env));
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of error.problems) err(`config: ${line}`);
      return 2;
    }
    if (error instanceof StartRefused) {
      for (const line of error.lines) err(line);
      return 2;
    }
    err(`could not start: ${(error as Error).message}`);
    return 1;
  }
  const { logger } = service;
  try {
    await service.start();
  } catch (error) {
    // Closing the database releases the embedded data directory's lock, so the next start is not refused.
    await service.stop().catch(() => {});
    const { code } = error as NodeJS.ErrnoException;
    const { host, port } = service.config;
    const settingProblem = code ? listenProblems(host, port)[code] : undefined;
    err(settingProblem ?? `could not listen on ${host}:${port}: ${(error as Error).message}`);
    return settingProblem ? 2 : 1;
  }

  const reload = async () => {
    const result = await service.catalog.reload();
    logger.info({ ok: result.ok, errors: result.findings.filter((f) => f.severity === 'error').length }, 'runbook catalog reloaded');
    const warnings = await reloadWarnings(service.db.db, service.routing());
    if (warnings.length) logger.warn({ warnings }, 'the reloaded matrix leaves open incidents without contacts they will page');
  };
  process.on('SIGHUP', () => void reload());

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      service
        .stop()
        .then(() => resolve(0))
        .catch((error) => {
          err(`shutdown failed: ${(error as Error).message}`);
          resolve(1);
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
