// `runbook-router hash-password [PASSWORD]`: prints a scrypt hash for a RESPONDERS entry (`alice:<hash>`).
// Without an argument the password is read from stdin (first line), so it stays out of the shell history and `ps`.
import { hashPassword } from './password.js';

export interface HashPasswordIo {
  out(line: string): void;
  err(line: string): void;
  /** The whole of stdin, for when no argument is given. */
  readStdin(): Promise<string>;
}

export async function runHashPassword(args: string[], io: HashPasswordIo): Promise<number> {
  if (args.length > 1) {
    io.err('usage: runbook-router hash-password [PASSWORD]   (reads the password from stdin when omitted)');
    return 2;
  }
  const password = args.length ? args[0]! : (await io.readStdin()).split(/\r?\n/)[0]!;
  if (!password) {
    io.err('hash-password: the password is empty');
    return 2;
  }
  io.out(await hashPassword(password));
  return 0;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
