import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './fixtures.js';

const CLK_TCK = 100;

import { freePort } from '../../test/support/service-process.js';

export { freePort };

/** Resident memory of a process from /proc: current and high-water mark, in MB. */
export function memoryOf(pid: number): { rssMb: number; hwmMb: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** User + system CPU seconds a process has used so far. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** CPU seconds of every PostgreSQL server process on the machine (the bench is the only load here). */
export function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    total += cpuSecondsOf(Number(entry));
  }
  return total;
}

/** Samples RSS every 100 ms (VmHWM already keeps the peak; the samples give the RSS under load). */
export function watchMemory(pid: number) {
  let peakRss = 0;
  const timer = setInterval(() => {
    const m = memoryOf(pid);
    if (m) peakRss = Math.max(peakRss, m.rssMb);
  }, 100);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      const m = memoryOf(pid);
      return { peakRssMb: Math.max(peakRss, m?.rssMb ?? 0, m?.hwmMb ?? 0) };
    },
  };
}

export interface Child {
  url: string;
  pid: number;
  child: ChildProcess;
  output(): string;
  stop(timeoutMs?: number): Promise<number | null>;
}

async function waitHttp(url: string, child: ChildProcess, output: () => string, timeoutMs: number, okStatus = (s: number) => s < 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (okStatus(res.status)) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Spawns a process, keeps its last output, waits until `readyUrl` answers. */
export async function startChild(command: string, args: string[], opts: { env: Record<string, string>; readyPath: string; port: number; timeoutMs?: number; cwd?: string }): Promise<Child> {
  let out = '';
  const child = spawn(command, args, { cwd: opts.cwd ?? ROOT, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 20_000) out = out.slice(-10_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${opts.port}`;
  await waitHttp(`${url}${opts.readyPath}`, child, () => out, opts.timeoutMs ?? 30_000, (s) => s < 300);
  return {
    url,
    pid: child.pid!,
    child,
    output: () => out,
    stop: (timeoutMs = 15_000) =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        const force = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.once('exit', (code) => {
          clearTimeout(force);
          resolve(code);
        });
        child.kill('SIGTERM');
      }),
  };
}

/** The node flags of package.json's `start` script (`[exec] node <flags> bin/runbook-router.js serve`). */
export function startScriptNodeFlags(): string[] {
  const start = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = start.trim().split(/\s+/);
  // `exec` replaces npm's shell with node, so a signal sent to the service reaches it.
  if (words[0] === 'exec') words.shift();
  const bin = words.indexOf('bin/runbook-router.js');
  if (words[0] !== 'node' || bin < 0) throw new Error(`package.json's start script is not "[exec] node [flags] bin/runbook-router.js serve": ${start}`);
  return words.slice(1, bin);
}

/** The real `runbook-router serve`, as `npm start` runs it (the build in dist/, the same node flags), quiet (LOG_LEVEL=warn). */
export async function startService(env: Record<string, string>, extraNodeArgs: string[] = []): Promise<Child> {
  const port = await freePort();
  return startChild(process.execPath, [...startScriptNodeFlags(), ...extraNodeArgs, path.join(ROOT, 'bin/runbook-router.js'), 'serve'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    readyPath: '/healthz',
    port,
    timeoutMs: 60_000,
  });
}

/** Runs `runbook-router <command>` to completion (e.g. `migrate`). */
export async function runCli(args: string[], env: Record<string, string>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/runbook-router.js'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`runbook-router ${args.join(' ')} exited with ${code}:\n${out}`));
    });
  });
}
