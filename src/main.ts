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
  try {
    await service.start();
  } catch (error) {
    // Closing the database releases the embedded data directory's lock, so the next start is not refused.
    await service.stop().catch(() => {});
    const { code } = error as NodeJS.ErrnoException;
    const where = `${service.config.host}:${service.config.port}`;
    if (code === 'EADDRINUSE') err(`PORT: ${where} is already in use by another process; stop it or choose another PORT`);
    else if (code === 'EACCES') err(`PORT: not allowed to listen on ${where} (ports below 1024 need privileges); choose a PORT above 1023`);
    else if (code === 'EADDRNOTAVAIL') err(`HOST: ${service.config.host} is not an address of this machine`);
    else err(`could not listen on ${where}: ${(error as Error).message}`);
    return code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' ? 2 : 1;
  }

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
