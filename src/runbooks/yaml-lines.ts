// Maps a path in a YAML document (`alerts.MON-005.severity`) back to its source line, so matrix errors
// read `matrix.yml:14: ...` instead of leaving the author to search the file.
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export type YamlPath = readonly PropertyKey[];

/** `alerts.MON-005.escalation[1]`: dots between keys, brackets for list indexes. */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || '(top level)';
}

/**
 * 1-based line of the node at `path` (of its key when `atKey`); when the path does not exist (a missing
 * required key), the line of the deepest node that does.
 */
export function lineAt(doc: Document, counter: LineCounter, path: YamlPath, atKey = false): number {
  let node: unknown = doc.contents;
  let line = startLine(node, counter) ?? 1;
  for (let i = 0; i < path.length; i++) {
    const part = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(part));
      if (!pair) break;
      const target = last && atKey ? pair.key : (pair.value ?? pair.key);
      line = startLine(target, counter) ?? startLine(pair.key, counter) ?? line;
      node = target;
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part];
      if (item === undefined) break;
      line = startLine(item, counter) ?? line;
      node = item;
    } else break;
  }
  return line;
}

function startLine(node: unknown, counter: LineCounter): number | null {
  const range = (node as Node | null | undefined)?.range;
  return range ? counter.linePos(range[0]).line : null;
}
