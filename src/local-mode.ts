import { ConfigError, type Config } from './config.js';

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** True when no responder authentication is configured: actions are recorded as `local` and every page says so. */
export function isLocalMode(config: Config): boolean {
  return !config.auth.trustedUserHeader && !config.auth.responders.length;
}

/** Local mode is for trying it out on one machine: it never listens beyond loopback. */
export function assertSafeListen(config: Config): void {
  if (isLocalMode(config) && !isLoopbackHost(config.host)) {
    throw new ConfigError([
      `HOST: refusing to listen on ${config.host} without responder authentication; set TRUSTED_USER_HEADER (behind an auth proxy) or RESPONDERS (basic users), or listen on 127.0.0.1`,
    ]);
  }
}
