import fs from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A table cell: no pipes, no backticks, and a regular expression's name cut short. */
function cell(text: string): string {
  const flat = text.replace(/[|`]/g, ' ');
  return flat.length > 90 ? `${flat.slice(0, 87)}...` : flat;
}

/** Where a function lives, coarsely: a package, our source tree, Node itself, or the VM. */
function bucketOf(url: string, name: string): string {
  if (!url) return name === '(garbage collector)' ? 'GC' : name === '(idle)' ? 'idle' : name === '(program)' ? 'VM / native' : `native ${name}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const src = /\/(src|bench|migrations)\/(.+)$/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  if (url.startsWith('node:')) return url.replace(/^node:internal\/(.*)/, 'node:$1').split('/').slice(0, 2).join('/');
  return path.basename(url);
}

/** Self time by function and by package/module, as a short markdown summary of every .cpuprofile in `dir`. */
export async function summarizeProfiles(dir: string, top = 15): Promise<string> {
  const out: string[] = [];
  for (const file of (await fs.readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort()) {
    const profile = JSON.parse(await fs.readFile(path.join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map<number, number>();
    profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    const idle = [...self.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, v]) => a + v, 0);
    const busy = total - idle;
    const fn = new Map<string, number>();
    const bucket = new Map<string, number>();
    for (const [id, us] of self) {
      const n = byId.get(id)!;
      if (n.callFrame.functionName === '(idle)') continue;
      const key = `${n.callFrame.functionName || '(anonymous)'} ${bucketOf(n.callFrame.url, n.callFrame.functionName)}:${n.callFrame.lineNumber + 1}`;
      fn.set(key, (fn.get(key) ?? 0) + us);
      const b = bucketOf(n.callFrame.url, n.callFrame.functionName);
      bucket.set(b, (bucket.get(b) ?? 0) + us);
    }
    const pctOf = (us: number) => `${((100 * us) / busy).toFixed(1)}%`;
    out.push(`#### ${file}: ${(busy / 1e6).toFixed(1)} s busy of ${(total / 1e6).toFixed(1)} s`, '', '| self time by package / module | share of busy |', '|---|--:|');
    for (const [b, us] of [...bucket].sort((x, y) => y[1] - x[1]).slice(0, top)) out.push(`| ${cell(b)} | ${pctOf(us)} |`);
    out.push('', '| self time by function | share of busy |', '|---|--:|');
    for (const [k, us] of [...fn].sort((x, y) => y[1] - x[1]).slice(0, top)) out.push(`| \`${cell(k)}\` | ${pctOf(us)} |`);
    out.push('');
  }
  return out.join('\n');
}
