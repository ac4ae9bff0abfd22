// The RESPONDERS list (`alice:scrypt$...,bob:scrypt$...`), parsed once at startup.
import { ConfigError } from '../config.js';
import { parsePasswordHash, type PasswordHash } from './password.js';

export type ResponderDirectory = ReadonlyMap<string, PasswordHash>;

/** Every malformed entry is reported (by user name and reason, never the hash) so a bad deploy is fixed in one go. */
export function parseResponders(entries: readonly string[]): ResponderDirectory {
  const directory = new Map<string, PasswordHash>();
  const problems: string[] = [];
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const user = colon > 0 ? entry.slice(0, colon) : '';
    if (!user || /\s/.test(user)) {
      problems.push('RESPONDERS: expected user:scrypt$N$r$p$salt$key entries');
      continue;
    }
    if (directory.has(user)) {
      problems.push(`RESPONDERS: user "${user}" is listed twice`);
      continue;
    }
    try {
      directory.set(user, parsePasswordHash(entry.slice(colon + 1)));
    } catch (error) {
      problems.push(`RESPONDERS: the hash of "${user}" is invalid: ${(error as Error).message} (make one with "runbook-router hash-password")`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return directory;
}
