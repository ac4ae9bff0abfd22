// The runbook header: `RUN-001: Title` then `Category:`, `Trigger:`, `Owner:`, `Last Tested:` lines.
// The seed writes them as consecutive plain lines (one markdown paragraph), so they are read line by line.
import { extractMonIds } from './mon-id.js';
import { plain } from './markdown-blocks.js';
import { CATEGORIES, type Category, type Finding, type Trigger } from './runbook.js';

export interface Header {
  id: string | null;
  title: string;
  idLine: number;
  category: Category | null;
  categoryText: string | null;
  categoryLine: number | null;
  trigger: Trigger | null;
  owner: string | null;
  ownerLine: number | null;
  lastTested: string | null;
  lastTestedText: string | null;
  lastTestedLine: number | null;
}

const ID_LINE = /^(RUN-\d+)(?:\s*[:\-–—]\s*|\s+|$)(.*)$/i;
const FIELD = /^([A-Za-z][A-Za-z -]*?)\s*:\s*(.*)$/;
const HEADER_KEYS = new Set(['category', 'trigger', 'owner', 'last tested', 'lasttested']);
const ATX_HEADING = /^\s*#{1,6}\s+(.*?)(?:\s+#+)?\s*$/;
// A trailing backslash is a markdown hard line break, typed so that viewers show the header lines apart.
const HARD_BREAK = /\\\s*$/;

/**
 * Whether a heading belongs to the header: `## RUN-001: Title` at any level, or the header lines themselves
 * when a `---` directly under them makes markdown read them as a (setext) heading.
 */
export function isHeaderHeading(text: string): boolean {
  const first = plain((text.split('\n')[0] ?? '').replace(HARD_BREAK, ''));
  const field = FIELD.exec(first);
  return ID_LINE.test(first) || (field !== null && HEADER_KEYS.has(fieldKey(field[1]!)));
}

function fieldKey(label: string): string {
  return label.toLowerCase().replace(/[\s-]+/g, ' ');
}

/** Reads header fields from `lines[0 .. end)` (0-based, exclusive); `id` is null when no `RUN-<n>: Title` line is found. */
export function parseHeader(lines: string[], end: number): Header {
  const header: Header = {
    id: null, title: '', idLine: 1,
    category: null, categoryText: null, categoryLine: null,
    trigger: null, owner: null, ownerLine: null,
    lastTested: null, lastTestedText: null, lastTestedLine: null,
  };
  for (let n = 0; n < end; n++) {
    const raw = (lines[n] ?? '').replace(HARD_BREAK, '');
    const text = plain(raw.replace(ATX_HEADING, '$1'));
    const line = n + 1;
    const idMatch = header.id === null ? ID_LINE.exec(text) : null;
    if (idMatch) {
      header.id = idMatch[1]!.toUpperCase();
      header.title = idMatch[2]!.trim();
      header.idLine = line;
      continue;
    }
    const field = FIELD.exec(text);
    if (!field) continue;
    const key = fieldKey(field[1]!);
    const value = field[2]!.trim();
    if (key === 'category' && header.categoryLine === null) {
      header.categoryText = value;
      header.categoryLine = line;
      header.category = toCategory(value);
    } else if (key === 'trigger' && header.trigger === null) {
      header.trigger = { text: value, monIds: extractMonIds(value), line };
    } else if (key === 'owner' && header.ownerLine === null) {
      header.owner = value === '' ? null : value;
      header.ownerLine = line;
    } else if ((key === 'last tested' || key === 'lasttested') && header.lastTestedLine === null) {
      header.lastTestedText = value;
      header.lastTestedLine = line;
      header.lastTested = isIsoDate(value) ? value : null;
    }
  }
  return header;
}

/** Header problems that make the file unusable as a runbook (the caller then returns runbook null). */
export function headerFindings(header: Header, file: string): Finding[] {
  if (header.id === null) {
    return [{ file, line: 1, severity: 'error', rule: 'parse', message: 'no "RUN-<number>: <title>" line before the first section' }];
  }
  const findings: Finding[] = [];
  if (header.title === '') {
    findings.push({ file, line: header.idLine, severity: 'error', rule: 'parse', message: `${header.id} has no title ("${header.id}: <title>")` });
  }
  if (header.category === null) {
    const got = header.categoryText === null ? 'missing' : `"${header.categoryText}" is not a category`;
    findings.push({ file, line: header.categoryLine ?? header.idLine, severity: 'error', rule: 'parse', message: `Category: ${got}; use one of ${CATEGORIES.join(', ')}` });
  }
  return findings;
}

// "Incident Response" is how the seed's category table names Incident.
function toCategory(value: string): Category | null {
  const word = value.trim().toLowerCase().replace(/\s+response$/, '');
  return CATEGORIES.find((c) => c.toLowerCase() === word) ?? null;
}

export function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}
