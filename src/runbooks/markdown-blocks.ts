// Turns runbook markdown into a flat list of top-level blocks with source lines, using markdown-it's
// block tokenizer (token.map) so that lists, fences and headings are recognised the way any markdown
// viewer shows them, instead of guessing with regexes over the whole file.
import MarkdownIt, { type StateBlock, type Token } from 'markdown-it';

export interface ParseOptions {
  /**
   * Lines that end a list item instead of joining its text as a lazy continuation (an unindented line
   * directly under `- [ ] item`). Markdown joins them, but a `Duration:` typed there is meant as a field.
   */
  endsListItem?: (line: string) => boolean;
}

const md = new MarkdownIt({ html: false });
md.block.ruler.before('paragraph', 'list_item_end', endsLazyContinuation, { alt: ['paragraph'] });

/**
 * Paragraph terminator: true for a lazy line (indented less than its container's content, so only inside
 * list items) that `endsListItem` claims. It never makes tokens: the line then starts a paragraph of its own.
 */
function endsLazyContinuation(state: StateBlock, line: number, _endLine: number, silent: boolean): boolean {
  const endsListItem = (state.env as ParseOptions).endsListItem;
  if (!silent || !endsListItem || state.sCount[line]! >= state.blkIndent) return false;
  return endsListItem(state.src.slice(state.bMarks[line]! + state.tShift[line]!, state.eMarks[line]));
}

export interface ListItem {
  /** Inline text of the item's first paragraph, checkbox removed, continuation lines joined with a space. */
  text: string;
  /** 1-based line of the item marker. */
  line: number;
  /** 0-based lines [start, end) the item covers, nested items included. */
  start: number;
  end: number;
  /** Whether the text began with `[ ]` or `[x]`: a checklist item, never a labelled line. */
  checkbox: boolean;
  children: ListItem[];
  /** Code blocks directly inside the item (`* Commands:` with the fence indented under it). */
  fences: { lang: string; code: string; line: number }[];
}

interface Span {
  /** 0-based first line, inclusive. */
  start: number;
  /** 0-based end line, exclusive. */
  end: number;
}

export type Block =
  | (Span & { kind: 'heading'; level: number; text: string; line: number; /** Underlined with --- or === (setext), not #. */ setext: boolean })
  | (Span & { kind: 'paragraph'; lines: { text: string; line: number }[] })
  | (Span & { kind: 'list'; items: ListItem[] })
  | (Span & {
      kind: 'fence';
      lang: string;
      code: string;
      line: number;
      /** false when the fence runs to the end of the file. */
      closed: boolean;
      /** 1-based line of a fence opening (```bash) inside the code: almost always a missing closing fence. */
      swallowedOpening: number | null;
      /** Fence character, ` or ~. */
      marker: string;
    })
  | (Span & { kind: 'other' });

// The seed writes fences as \`\`\`sql (escaped for its own markdown host); such a line on its own is a fence.
const ESCAPED_FENCE = /^( {0,3})\\`\\`\\`([^`\s]*)\s*$/;
const FENCE_LINE = /^ {0,3}(`{3,}|~{3,})/;

/** Source lines with escaped fences turned into real ones; line count is unchanged so lines stay true. */
export function normalizeLines(text: string): string[] {
  return text.split(/\r?\n/).map((line) => line.replace(ESCAPED_FENCE, '$1```$2'));
}

/** For each line, whether it is inside (or is the marker of) a fenced code block. */
export function fencedLines(lines: string[]): boolean[] {
  const inside: boolean[] = [];
  let open: string | null = null;
  for (const line of lines) {
    const fence = FENCE_LINE.exec(line)?.[1];
    if (open === null && fence) {
      open = fence;
      inside.push(true);
    } else if (open !== null) {
      inside.push(true);
      if (fence && fence[0] === open[0] && fence.length >= open.length && line.trim() === fence) open = null;
    } else inside.push(false);
  }
  return inside;
}

const CHECKBOX = /^\[[ xX]\]\s*/;

/** Parses normalised lines into top-level blocks. */
export function parseBlocks(lines: string[], options: ParseOptions = {}): Block[] {
  const tokens = md.parse(lines.join('\n'), { ...options });
  const blocks: Block[] = [];
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    const [start, end] = token.map ?? [0, 0];
    const close = findClose(tokens, i);
    if (token.type === 'heading_open') {
      blocks.push({ kind: 'heading', level: Number(token.tag.slice(1)), text: tokens[i + 1]?.content.trim() ?? '', line: start + 1, setext: token.markup === '-' || token.markup === '=', start, end });
    } else if (token.type === 'paragraph_open') {
      const paragraphLines: { text: string; line: number }[] = [];
      for (let n = start; n < end; n++) paragraphLines.push({ text: (lines[n] ?? '').trim(), line: n + 1 });
      blocks.push({ kind: 'paragraph', lines: paragraphLines, start, end });
    } else if (token.type === 'bullet_list_open' || token.type === 'ordered_list_open') {
      blocks.push({ kind: 'list', items: listItems(tokens, i + 1, close), start, end });
    } else if (token.type === 'fence' || token.type === 'code_block') {
      const last = lines[end - 1] ?? '';
      const closed = token.type === 'code_block' || (end - 1 > start && FENCE_LINE.test(last) && last.trim().length === (FENCE_LINE.exec(last)?.[1]?.length ?? -1));
      const swallowedOpening = token.type === 'fence' ? findOpening(lines, start + 1, end - 1, token.markup) : null;
      blocks.push({ kind: 'fence', lang: token.info.trim().split(/\s+/)[0] ?? '', code: token.content.replace(/\n$/, ''), line: start + 1, closed, swallowedOpening, marker: token.markup[0] ?? '', start, end });
    } else if (token.map) {
      blocks.push({ kind: 'other', start, end });
    }
    i = close + 1;
  }
  return blocks;
}

/** First line in [from, to) that opens a fence of the same kind as `markup` with an info string. */
function findOpening(lines: string[], from: number, to: number, markup: string): number | null {
  for (let n = from; n < to; n++) {
    const match = /^ {0,3}(`{3,}|~{3,})\s*\S/.exec(lines[n] ?? '');
    if (match && match[1]![0] === markup[0] && match[1]!.length >= markup.length) return n + 1;
  }
  return null;
}

type Fence = Extract<Block, { kind: 'fence' }>;

/**
 * 1-based line of the fence that is never closed, when the last fence runs to the end of the file.
 * A missing closing ``` shifts the pairing: the next bare ``` closes the earlier block and the fence after it
 * is left open, so the error would land on a fence that is fine. The earlier block is taken as the open one
 * when its code holds lines of the document (`looksLikeText`, e.g. `Verification:`) and every fence after
 * it opens bare, so that pairing them the other way round is possible.
 */
export function unclosedFenceLine(blocks: Block[], looksLikeText: (line: string) => boolean): number | null {
  const fences = blocks.filter((b): b is Fence => b.kind === 'fence');
  const last = fences.at(-1);
  if (!last || last.closed) return null;
  let line = last.line;
  for (let k = fences.length - 2; k >= 0; k--) {
    const fence = fences[k]!;
    // A fence with an info string only ever opens, and another fence kind cannot close this one.
    if (fences[k + 1]!.lang !== '' || fence.marker !== last.marker || fence.swallowedOpening !== null) break;
    if (fence.code.split('\n').some(looksLikeText)) line = fence.line;
  }
  return line;
}

/** Index of the token that closes the block opened at `i` (itself for self-contained tokens). */
function findClose(tokens: Token[], i: number): number {
  const open = tokens[i]!;
  if (open.nesting !== 1) return i;
  let depth = 0;
  for (let j = i; j < tokens.length; j++) {
    depth += tokens[j]!.nesting;
    if (depth === 0) return j;
  }
  return tokens.length - 1;
}

/** Items of the list whose tokens lie in (from, to); nested lists become children. */
function listItems(tokens: Token[], from: number, to: number): ListItem[] {
  const items: ListItem[] = [];
  let i = from;
  while (i < to) {
    const token = tokens[i]!;
    const close = findClose(tokens, i);
    if (token.type === 'list_item_open') {
      const [start, end] = token.map ?? [0, 0];
      const item: ListItem = { text: '', line: start + 1, start, end, checkbox: false, children: [], fences: [] };
      let j = i + 1;
      while (j < close) {
        const inner = tokens[j]!;
        const innerClose = findClose(tokens, j);
        if (inner.type === 'paragraph_open' && item.text === '' && item.children.length === 0) {
          const content = (tokens[j + 1]?.content ?? '').replace(/\s*\n\s*/g, ' ');
          item.checkbox = CHECKBOX.test(content);
          item.text = content.replace(CHECKBOX, '').trim();
        } else if (inner.type === 'bullet_list_open' || inner.type === 'ordered_list_open') {
          item.children.push(...listItems(tokens, j + 1, innerClose));
        } else if (inner.type === 'fence' || inner.type === 'code_block') {
          item.fences.push({ lang: inner.info.trim().split(/\s+/)[0] ?? '', code: inner.content.replace(/\n$/, ''), line: (inner.map?.[0] ?? 0) + 1 });
        }
        j = innerClose + 1;
      }
      items.push(item);
    }
    i = close + 1;
  }
  return items;
}

/** Text with markdown emphasis markers removed, for matching labels such as `**Handles**:`. */
export function plain(text: string): string {
  return text.replace(/\*\*|__/g, '').trim();
}
