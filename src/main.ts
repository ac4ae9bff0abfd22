import { loadConfig, ConfigError } from './config.js';
import { createService, StartRefused } from './service.js';

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
  await service.start();

  const reload = async () => {
    const result = await service.catalog.reload();
    logger.info({ ok: result.ok, errors: result.findings.filter((f) => f.severity === 'error').length }, 'runbook catalog reloaded');
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
