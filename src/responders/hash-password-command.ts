// `runbook-router hash-password [PASSWORD]`: prints a scrypt hash for a RESPONDERS entry (`alice:<hash>`).
// Without an argument the password is read from stdin (first line), so it stays out of the shell history and `ps`.
import { hashPassword } from './password.js';

export interface HashPasswordIo {
  out(line: string): void;
  err(line: string): void;
  /** The whole of stdin, for when no argument is given. */
  readStdin(): Promise<string>;
}

const USAGE = 'usage: runbook-router hash-password [PASSWORD]   (reads the password from stdin when omitted; put -- before a password that starts with -)';

export async function runHashPassword(args: string[], io: HashPasswordIo): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (typeof parsed === 'string') {
    io.err(`runbook-router hash-password: ${parsed}\n${USAGE}`);
    return 2;
  }
  const password = parsed.length ? parsed[0]! : (await io.readStdin()).split(/\r?\n/)[0]!;
  if (!password) {
    io.err('hash-password: the password is empty');
    return 2;
  }
  io.out(await hashPassword(password));
  return 0;
}

/**
 * The password argument (none: read stdin). A word starting with - is an option, so `--help` or a typo is never
 * hashed as a password and pasted into RESPONDERS; after `--` every word is a password. `'help'` for --help, else what is wrong.
 */
function parseArgs(args: string[]): string[] | string {
  const passwords: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      passwords.push(...args.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg.startsWith('-')) return `unknown option ${arg}`;
    passwords.push(arg);
  }
  if (passwords.length > 1) return `expected one password, got ${passwords.length} arguments`;
  return passwords;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
