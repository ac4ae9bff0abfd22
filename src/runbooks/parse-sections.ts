// Readers for the non-procedure sections: Scope, checklists (Prerequisites, Post-Incident), Escalation,
// and the `Linked IDs:` line. Each accepts bullet lists (the seed's form) and plain `Label: text` lines.
import { plain, type Block, type ListItem } from './markdown-blocks.js';
import type { ChecklistItem, Escalation, ScopeItem } from './runbook.js';

export type SectionKind = 'scope' | 'prerequisites' | 'procedure' | 'escalation' | 'postIncident' | 'linked';

/** The section a heading opens, by name, in any case (`## procedure`, `## Post-Deployment`). */
export function sectionKind(headingText: string): SectionKind | null {
  const name = plain(headingText).toLowerCase().replace(/:$/, '').trim();
  if (name === 'scope') return 'scope';
  if (/^(pre-?requisites|prereqs|requirements|before you (start|begin))$/.test(name)) return 'prerequisites';
  if (/^(procedures?|steps|runbook steps|instructions)$/.test(name)) return 'procedure';
  if (/^escalation( path| paths| policy)?$/.test(name)) return 'escalation';
  // Post-Incident, Post-Deployment, Post-Maintenance, Post Recovery, ...: the after-care checklist.
  if (/^post[\s-]?[a-z]+/.test(name) || /^follow[\s-]?ups?$/.test(name)) return 'postIncident';
  if (/^linked ids?$/.test(name)) return 'linked';
  return null;
}

/** A label and its text from a list item or a paragraph line: `**Handles**: x`, `Handles: x`, `**Handles:** x`. */
function labelled(text: string): { label: string; value: string } | null {
  const match = /^([^:]{1,40}?)\s*:\s*(.*)$/s.exec(plain(text));
  return match ? { label: match[1]!.toLowerCase().replace(/\s+/g, ' '), value: match[2]!.trim() } : null;
}

type Entry = Pick<ListItem, 'text' | 'line' | 'children'>;

/** List items and non-empty paragraph lines of a section, in order. */
function entries(blocks: Block[]): Entry[] {
  const out: Entry[] = [];
  for (const block of blocks) {
    if (block.kind === 'list') out.push(...block.items);
    if (block.kind === 'paragraph') for (const { text, line } of block.lines) if (text) out.push({ text, line, children: [] });
  }
  return out;
}

/** Checklist items (top-level list items) with keys `<prefix>-<i>`, i from 1. */
export function parseChecklist(blocks: Block[], prefix: string): ChecklistItem[] {
  const items: ChecklistItem[] = [];
  let listEnd = -1;
  for (const block of blocks) {
    if (block.kind === 'paragraph' && block.start === listEnd && items.length) {
      // A labelled line typed right under an item (`Verify: you can log in`) ends the item for the step parser's sake
      // (parseBlocks' endsListItem); outside a step it is still the item's wrapped text, not a paragraph to drop.
      const last = items.at(-1)!;
      last.text = [last.text, ...block.lines.map((l) => l.text.trim())].join(' ');
      listEnd = block.end;
      continue;
    }
    if (block.kind !== 'list') continue;
    for (const item of block.items) if (item.text) items.push({ key: `${prefix}-${items.length + 1}`, text: item.text, line: item.line });
    listEnd = block.end;
  }
  return items;
}

const HANDLES = /^(handles|in scope|covers)$/;
const NOT_HANDLES = /^(does not handle|doesn'?t handle|not handled|does not cover|out of scope)$/;

export function parseScope(blocks: Block[]): { handles: ScopeItem[]; doesNotHandle: ScopeItem[] } {
  const scope = { handles: [] as ScopeItem[], doesNotHandle: [] as ScopeItem[] };
  for (const entry of entries(blocks)) {
    const found = labelled(entry.text);
    if (!found) continue;
    const target = HANDLES.test(found.label) ? scope.handles : NOT_HANDLES.test(found.label) ? scope.doesNotHandle : null;
    if (!target) continue;
    const parts = found.value ? splitScope(found.value).map((text) => ({ text, line: entry.line })) : [];
    // `- **Handles**:` followed by a nested list: one entry per nested item.
    for (const child of entry.children) parts.push({ text: child.text, line: child.line });
    for (const part of parts) target.push(scopeItem(part.text, part.line));
  }
  return scope;
}

/** Splits on `;` when present, else on `,`, never inside parentheses ("crash (see RUN-010, RUN-011)"). */
function splitScope(value: string): string[] {
  const separator = value.includes(';') ? ';' : ',';
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of value) {
    if (ch === '(') depth++;
    if (ch === ')') depth = Math.max(0, depth - 1);
    if (ch === separator && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim().replace(/\.$/, '')).filter((p) => p !== '');
}

function scopeItem(raw: string, line: number): ScopeItem {
  const refs = extractRunIds(raw);
  // "(see RUN-010)" is a pointer, not part of what is (not) handled.
  const text = raw.replace(/\s*\(\s*see\s+[^)]*\)/gi, '').trim() || raw.trim();
  return { text, refs, line };
}

const WHEN = /^when( to escalate)?$/;
const WHO = /^(who( to (contact|call|page|notify))?|contacts?)$/;
const WHAT = /^what( to (provide|send|share|include|hand over))?$/;

export function parseEscalation(blocks: Block[], line: number | null): Escalation {
  const escalation: Escalation = { when: null, who: null, what: null, line, lines: { when: null, who: null, what: null } };
  for (const entry of entries(blocks)) {
    const found = labelled(entry.text);
    // `- **Who to contact**:` followed by a nested list of contacts, as Scope allows for Handles.
    const value = [found?.value ?? '', ...entry.children.map((c) => c.text)].filter((v) => v !== '').join('; ');
    if (!found || !value) continue;
    const field = WHEN.test(found.label) ? 'when' : WHO.test(found.label) ? 'who' : WHAT.test(found.label) ? 'what' : null;
    if (!field) continue;
    escalation[field] = escalation[field] === null ? value : `${escalation[field]}; ${value}`;
    escalation.lines[field] ??= entry.line;
  }
  return escalation;
}

const LINKED_LINE = /^\s*(?:[-*+]\s+)?(?:\*\*|__)?linked\s+ids?(?:\*\*|__)?\s*:(?:\*\*|__)?\s*(.*)$/i;

/** The `Linked IDs:` value when `line` is that line. */
export function linkedIdsValue(line: string): string | null {
  return LINKED_LINE.exec(line)?.[1] ?? null;
}

/** Ids of any kind (`MON-005`, `DEP-001/002` → DEP-001, DEP-002), upper case, without duplicates. */
export function extractLinkedIds(text: string): string[] {
  const ids: string[] = [];
  for (const match of text.matchAll(/(?<![\p{L}\p{N}])([A-Za-z]{2,10})-(\d+)((?:\/\d+)*)(?![\p{L}\p{N}])/gu)) {
    const prefix = match[1]!.toUpperCase();
    for (const digits of [match[2]!, ...match[3]!.split('/').filter(Boolean)]) {
      const id = `${prefix}-${digits}`;
      if (!ids.includes(id)) ids.push(id);
    }
  }
  return ids;
}

/** RUN- ids mentioned in `text`, upper case, in order, without duplicates. */
export function extractRunIds(text: string): string[] {
  const ids: string[] = [];
  for (const match of text.matchAll(/(?<![\p{L}\p{N}])RUN-(\d+)(?![\p{L}\p{N}])/giu)) {
    const id = `RUN-${match[1]}`;
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}
