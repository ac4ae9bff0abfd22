// Parses one RUN- markdown file into a Runbook. Structure comes from markdown-it's block tokens;
// fields inside blocks are read line by line, so every part keeps its source line.
// `runbook` is null only when the file cannot be used at all (no RUN- id line, unknown Category,
// unclosed code block): the catalog store then keeps serving the last good version. It does the same for a file that
// reads but is not `servable` (a heading in the procedure that is not a step's), and serves it as read when there is
// no good version to keep.
import { createHash } from 'node:crypto';
import { fencedLines, normalizeLines, parseBlocks, plain, unclosedFenceLine, type Block } from './markdown-blocks.js';
import { headerFindings, isHeaderHeading, parseHeader } from './parse-header.js';
import {
  extractLinkedIds, extractRunIds, linkedIdsValue, parseChecklist, parseEscalation, parseScope, sectionKind, type SectionKind,
} from './parse-sections.js';
import { isStepMarker, parseStep, stepHeading } from './parse-step.js';
import type { Finding, Runbook, RunReference, Step } from './runbook.js';

export interface ParseResult {
  runbook: Runbook | null;
  findings: Finding[];
  /**
   * false when the text must not go into service: also when it reads as a runbook but procedure text outside every step
   * would be dropped. That runbook is still returned, because versions pinned before this was refused (when such text
   * was dropped silently) must keep their steps on their incidents' pages.
   */
  servable: boolean;
}

interface OpenStep {
  heading: { number: number; title: string; line: number };
  level: number;
  body: Block[];
}

const STEP_MARKER_HEADING = /^(commands?|verification|verify|rollback)$/i;

export function parseRunbook(text: string, file: string): ParseResult {
  const findings: Finding[] = [];
  const lines = normalizeLines(text);
  const fenced = fencedLines(lines);

  // `Linked IDs:` is read as a line and blanked before tokenizing: in the seed it directly follows the
  // post-incident list and would otherwise be swallowed as a lazy continuation of the last item.
  let linked = null as { value: string; line: number } | null;
  lines.forEach((line, n) => {
    const value = fenced[n] ? null : linkedIdsValue(line);
    if (value !== null && linked === null) {
      linked = { value, line: n + 1 };
      lines[n] = '';
    }
  });

  const blocks = parseBlocks(lines, { endsListItem: isStepMarker });
  let brokenFence = false;
  for (const block of blocks) {
    if (block.kind !== 'fence') continue;
    if (!block.closed) {
      brokenFence = true;
      findings.push({ file, line: unclosedFenceLine(blocks, isStepMarker) ?? block.line, severity: 'error', rule: 'parse', message: 'code block opened here is never closed (the rest of the file would be read as code)' });
    } else if (block.swallowedOpening !== null) {
      brokenFence = true;
      findings.push({ file, line: block.line, severity: 'error', rule: 'parse', message: `code block opened here contains another opening fence at line ${block.swallowedOpening}; a closing \`\`\` is missing before it` });
    }
  }

  const firstSection = blocks.findIndex((b) => b.kind === 'heading' && !isHeaderHeading(b.text));
  const headerEnd = firstSection === -1 ? lines.length : blocks[firstSection]!.start;
  const header = parseHeader(lines, headerEnd);
  findings.push(...headerFindings(header, file));

  const sections = new Map<SectionKind, { line: number; blocks: Block[] }>();
  const steps: Step[] = [];
  const stepKeys = new Map<number, number>();
  let section = 'other' as SectionKind | 'other';
  let open = null as OpenStep | null;
  // Procedure text outside every step is never shown. A misspelt step heading (`### Step One`) silently drops a whole
  // step: an error, and the file is not servable, so a reload keeps the last good version. A line of introduction before
  // the first step ("Work through these in order.") loses little: a warning. Reported once per stretch.
  let stray = false;
  let strayReported = false;
  const strayText = (block: Block) => {
    if (block.kind === 'heading' && block.level >= 3) {
      stray = true;
      findings.push({ file, line: block.line, severity: 'error', rule: 'parse', message: `"${'#'.repeat(block.level)} ${block.text}" in the procedure is not a step heading, so it and the text under it would be dropped; write "### Step N: <title>"` });
    } else if (!strayReported) {
      findings.push({ file, line: block.kind === 'heading' ? block.line : block.start + 1, severity: 'warning', rule: 'procedure-intro', message: 'text in the procedure before the first step heading is not shown on the page; put it in a step ("### Step 1: <title>") or above "## Procedure"' });
    }
    strayReported = true;
  };

  const closeStep = (endLine: number) => {
    if (!open) return;
    const seen = (stepKeys.get(open.heading.number) ?? 0) + 1;
    stepKeys.set(open.heading.number, seen);
    const key = seen === 1 ? `step-${open.heading.number}` : `step-${open.heading.number}-${seen}`;
    if (seen > 1) {
      findings.push({ file, line: open.heading.line, severity: 'error', rule: 'parse', message: `step ${open.heading.number} appears ${seen} times; number steps uniquely` });
    }
    steps.push(parseStep(open.heading, key, open.body, endLine, lines, file, findings));
    open = null;
  };

  for (const block of firstSection === -1 ? [] : blocks.slice(firstSection)) {
    if (block.kind === 'heading') {
      const step = block.level >= 2 ? stepHeading(block.text, section === 'procedure') : null;
      const kind = block.level <= 3 ? sectionKind(block.text) : null;
      if (step) {
        closeStep(block.start);
        strayReported = false;
        open = { heading: { ...step, line: block.line }, level: block.level, body: [] };
        if (section !== 'procedure') startSection('procedure', block.line);
        continue;
      }
      if (open && STEP_MARKER_HEADING.test(plain(block.text))) {
        // `#### Verification` (or Commands, Rollback) inside a step reads like a `Verification:` line.
        open.body.push({ kind: 'paragraph', lines: [{ text: `${plain(block.text)}:`, line: block.line }], start: block.start, end: block.end });
        continue;
      }
      if (open && block.setext && !kind && sentenceLike(block.text)) {
        // Markdown makes the line above a `---` a heading; in a step a sentence there is a sentence followed by a rule,
        // and as a heading it ended the step and was lost. A short title (`Notes`) underlined on purpose stays a heading.
        const text = block.text.split('\n').map((t, k) => ({ text: t, line: block.line + k }));
        open.body.push({ kind: 'paragraph', lines: text, start: block.start, end: block.end });
        findings.push({ file, line: block.line + text.length, severity: 'warning', rule: 'parse', message: `"${block.text.split('\n')[0]}" directly above this line would be a heading in markdown; put a blank line above the ${block.level === 1 ? '===' : '---'} (read as a line of the step)` });
        continue;
      }
      if (kind || block.level <= 2 || (open && block.level <= open.level)) {
        closeStep(block.start);
        if (kind) startSection(kind, block.line);
        else if (section === 'procedure' && block.level >= 3) strayText(block);
        else section = 'other';
        continue;
      }
    }
    if (open) open.body.push(block);
    else if (section === 'procedure') strayText(block);
    else if (section !== 'other') sections.get(section)?.blocks.push(block);
  }
  closeStep(lines.length);

  function startSection(kind: SectionKind, line: number) {
    section = kind;
    strayReported = false;
    if (!sections.has(kind)) sections.set(kind, { line, blocks: [] });
  }

  if (header.id === null || header.category === null || brokenFence) return { runbook: null, findings, servable: false };

  if (steps.length === 0) {
    findings.push({ file, line: sections.get('procedure')?.line ?? header.idLine, severity: 'error', rule: 'parse', message: 'no procedure steps ("### Step 1: <title>" under "## Procedure")' });
  }

  const linkedValue = linked;
  const linkedSection = sections.get('linked');
  const linkedIds = extractLinkedIds([linkedValue?.value ?? '', ...(linkedSection?.blocks ?? []).map((b) => lines.slice(b.start, b.end).join('\n'))].join('\n'));
  const scopeSection = sections.get('scope');
  const escalationSection = sections.get('escalation');

  const runbook: Runbook = {
    id: header.id,
    title: header.title,
    category: header.category,
    trigger: header.trigger,
    owner: header.owner,
    lastTested: header.lastTested,
    lastTestedText: header.lastTestedText,
    scope: { ...parseScope(scopeSection?.blocks ?? []), line: scopeSection?.line ?? null },
    prerequisites: parseChecklist(sections.get('prerequisites')?.blocks ?? [], 'prereq'),
    steps,
    escalation: parseEscalation(escalationSection?.blocks ?? [], escalationSection?.line ?? null),
    postIncident: parseChecklist(sections.get('postIncident')?.blocks ?? [], 'post'),
    linkedIds,
    references: runReferences(lines, fenced, header.idLine, linkedValue, header.id),
    hash: createHash('sha256').update(text).digest('hex'),
    file,
    text,
    lines: {
      id: header.idLine,
      category: header.categoryLine,
      trigger: header.trigger?.line ?? null,
      owner: header.ownerLine,
      lastTested: header.lastTestedLine,
      prerequisites: sections.get('prerequisites')?.line ?? null,
      procedure: sections.get('procedure')?.line ?? null,
      postIncident: sections.get('postIncident')?.line ?? null,
      linkedIds: linkedValue?.line ?? linkedSection?.line ?? null,
    },
  };
  return { runbook, findings, servable: !stray };
}

/** Every RUN- id named outside code, except the runbook's own id: each must name a runbook in the catalog. */
function runReferences(lines: string[], fenced: boolean[], idLine: number, linked: { value: string; line: number } | null, ownId: string): RunReference[] {
  const refs: RunReference[] = [];
  const add = (id: string, line: number) => {
    if (id !== ownId && !refs.some((r) => r.id === id && r.line === line)) refs.push({ id, line });
  };
  lines.forEach((line, n) => {
    if (fenced[n] || n + 1 === idLine) return;
    for (const id of extractRunIds(line.replace(/`[^`]*`/g, ''))) add(id, n + 1);
  });
  if (linked) for (const id of extractLinkedIds(linked.value)) if (id.startsWith('RUN-')) add(id, linked.line);
  return refs.sort((a, b) => a.line - b.line);
}

/** Reads as a sentence rather than a title: ends with punctuation, or runs to more than six words. */
function sentenceLike(text: string): boolean {
  return /[.,:;!?)]$/.test(text.trim()) || text.trim().split(/\s+/).length > 6;
}
