import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './fixtures.js';
import { freePort, startChild, type Child } from './proc.js';

export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

/** The installed Alertmanager's version line, or null when it is not installed. */
export async function alertmanagerVersion(): Promise<string | null> {
  try {
    await fs.access(ALERTMANAGER_BIN);
    const out = execFileSync(ALERTMANAGER_BIN, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return /version (\S+)/.exec(out)?.[1] ?? out.split('\n')[0]!.trim();
  } catch {
    return null;
  }
}

/** Alertmanager with a temp storage path, a do-nothing receiver and clustering off, on a free loopback port. */
export async function startAlertmanager(): Promise<Child & { cleanup(): Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rr-bench-am-'));
  const config = path.join(dir, 'alertmanager.yml');
  await fs.writeFile(config, "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
  const port = await freePort();
  const child = await startChild(
    ALERTMANAGER_BIN,
    [`--config.file=${config}`, `--storage.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
    { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, readyPath: '/-/ready', port, cwd: dir },
  );
  return { ...child, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** The plain node:http JSON-parsing server in its own process. */
export async function startPlainHttp(): Promise<Child> {
  const port = await freePort();
  return startChild(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/peers/plain-http.ts')], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port) },
    readyPath: '/',
    port,
  });
}
