// One procedure step: its heading (`### Step 1: Verify Alert`, `Step 1 -`, `Step 1.`) and the blocks
// under it, sorted into prose, commands, verification items and the launch playbook's optional
// Duration / Rollback / Checkpoint lines.
import { parseDuration } from '../duration.js';
import { plain, type Block, type ListItem } from './markdown-blocks.js';
import type { ChecklistItem, Command, Finding, Step, StepDuration } from './runbook.js';

const STEP_HEADING = /^step\s+(\d+)\b\s*(?:[:.)\-–—]\s*)?(.*)$/i;
// `### 1. Verify Alert` is accepted inside a Procedure section only (elsewhere it is just a numbered heading).
const NUMBERED_HEADING = /^(\d+)[.)]\s+(.+)$/;
const MARKER = /^(commands?|verification|verify|duration|rollback|checkpoint)\s*:\s*(.*)$/i;
const INLINE_CODE = /^`([^`]+)`$/;
const DURATION_VALUE = /^(\S+?)\s*(?:\(\s*max(?:imum)?\s*:?\s*([^)\s]+)\s*\)|,?\s+max(?:imum)?\s*:?\s*(\S+))?$/i;

/** Number and title when `text` (a heading's text) is a step heading. */
export function stepHeading(text: string, inProcedure: boolean): { number: number; title: string } | null {
  const t = plain(text);
  const match = STEP_HEADING.exec(t) ?? (inProcedure ? NUMBERED_HEADING.exec(t) : null);
  return match ? { number: Number(match[1]), title: match[2]!.trim() } : null;
}

/** Whether `line` is one of a step's labelled lines (`Duration: 5m`, `**Verification:**`, `Rollback: \`…\``). */
export function isStepMarker(line: string): boolean {
  return MARKER.test(plain(line));
}

type Mode = 'prose' | 'commands' | 'verification';

/**
 * Builds a step from its heading and body blocks. `lines` are the normalised source lines, used to copy
 * lists and other blocks into `prose` as the author wrote them.
 */
export function parseStep(
  heading: { number: number; title: string; line: number },
  key: string,
  body: Block[],
  endLine: number,
  lines: string[],
  file: string,
  findings: Finding[],
): Step {
  const step: Step = {
    key, number: heading.number, title: heading.title, line: heading.line, endLine,
    prose: '', commands: [], verification: [], duration: null,
    rollback: null, rollbackLine: null, checkpoint: false, checkpointLine: null,
  };
  const prose: string[] = [];
  const addVerification = (text: string, line: number) => {
    const clean = text.replace(/^[-*+]\s+/, '').replace(/^\[[ xX]\]\s*/, '').trim();
    if (clean) step.verification.push({ key: `${key}.v${step.verification.length + 1}`, text: clean, line } satisfies ChecklistItem);
  };
  let mode = 'prose' as Mode;
  let rollbackAwaitsCode = false;

  /** Applies a labelled line; `last` when nothing follows it in its block, so a code block after it may belong to it. */
  const applyMarker = (marker: RegExpExecArray, line: number, last: boolean, kept: string[]) => {
    const name = marker[1]!.toLowerCase();
    const value = marker[2]!.replace(/^\*\*|\*\*$/g, '').trim();
    if (name.startsWith('command')) {
      mode = 'commands';
      const code = INLINE_CODE.exec(value);
      if (code) step.commands.push({ lang: '', code: code[1]!, line });
      else if (value) kept.push(value);
    } else if (name.startsWith('verif')) {
      mode = 'verification';
      if (value) addVerification(value, line);
    } else if (name === 'duration') {
      step.duration = parseStepDuration(value, line, file, findings);
    } else if (name === 'rollback') {
      step.rollback = value.replace(/^`([^`]*)`$/, '$1') || null;
      step.rollbackLine = line;
      // A Rollback line that is its command (`Rollback: \`cmd\``) is complete: the block after it is the step's forward
      // command, and taking it as rollback would re-apply the change on undo. Prose that only mentions a command in
      // backticks ("nothing to undo for `x`; if the pool was resized, restore it:") still introduces the block.
      rollbackAwaitsCode = last && !INLINE_CODE.test(value);
    } else {
      step.checkpointLine = line;
      step.checkpoint = parseCheckpoint(value, line, file, findings);
    }
  };

  const applyFence = (fence: Command, rollbackCode: boolean) => {
    if (rollbackCode) step.rollback = [step.rollback?.replace(/:$/, ''), fence.code].filter(Boolean).join('\n');
    else step.commands.push(fence);
  };

  /**
   * A list holding labelled bullets (`- Duration: 5m`, `* Commands:`) is read item by item like paragraph
   * lines: people bullet the fields, and as prose a `Checkpoint: manual` would silently be dropped.
   * Other items keep their source as prose, or are verification items after a `- Verification:` bullet.
   */
  const readFieldList = (items: ListItem[], kept: string[]) => {
    items.forEach((item, index) => {
      // Only the list's very last bullet can hand the code block after the list to the rollback.
      rollbackAwaitsCode = false;
      const marker = item.checkbox ? null : MARKER.exec(plain(item.text));
      if (!marker) {
        const code = INLINE_CODE.exec(item.text);
        if (mode === 'verification') addVerification(item.text, item.line);
        else if (mode === 'commands' && code) step.commands.push({ lang: '', code: code[1]!, line: item.line });
        else {
          mode = 'prose';
          kept.push(source(lines, item.start, item.end));
        }
        return;
      }
      const last = index === items.length - 1;
      applyMarker(marker, item.line, last && item.children.length === 0 && item.fences.length === 0, kept);
      item.fences.forEach((fence, k) => applyFence(fence, k === 0 && rollbackAwaitsCodeIn(marker, item)));
      if (item.children.length) readFieldList(item.children, kept);
    });
  };

  for (const block of body) {
    const rollbackCode = rollbackAwaitsCode && block.kind === 'fence';
    rollbackAwaitsCode = false;
    if (block.kind === 'paragraph') {
      mode = 'prose';
      const kept: string[] = [];
      block.lines.forEach(({ text, line }, index) => {
        const marker = MARKER.exec(plain(text));
        if (marker) {
          applyMarker(marker, line, index === block.lines.length - 1, kept);
          return;
        }
        const code = INLINE_CODE.exec(text);
        if (mode === 'verification') addVerification(text, line);
        else if (mode === 'commands' && code) step.commands.push({ lang: '', code: code[1]!, line });
        else {
          mode = 'prose';
          kept.push(text);
        }
      });
      if (kept.length) prose.push(kept.join('\n'));
    } else if (block.kind === 'fence') {
      applyFence({ lang: block.lang, code: block.code, line: block.line }, rollbackCode);
    } else if (block.kind === 'list' && block.items.some(isFieldItem)) {
      const kept: string[] = [];
      readFieldList(block.items, kept);
      if (kept.length) prose.push(kept.join('\n'));
    } else if (block.kind === 'list' && mode === 'verification') {
      for (const item of block.items) addVerification(item.text, item.line);
    } else {
      prose.push(source(lines, block.start, block.end));
    }
  }
  step.prose = prose.filter((p) => p.trim() !== '').join('\n\n');
  return step;
}

function isFieldItem(item: ListItem): boolean {
  return !item.checkbox && MARKER.test(plain(item.text));
}

/** Whether a fence inside a `- Rollback:` bullet is the rollback itself (the bullet does not name a command). */
function rollbackAwaitsCodeIn(marker: RegExpExecArray, item: ListItem): boolean {
  return marker[1]!.toLowerCase() === 'rollback' && !INLINE_CODE.test(marker[2]!.replace(/^\*\*|\*\*$/g, '').trim());
}

function source(lines: string[], start: number, end: number): string {
  return lines.slice(start, end).join('\n').replace(/\s+$/, '');
}

function parseStepDuration(value: string, line: number, file: string, findings: Finding[]): StepDuration | null {
  const match = DURATION_VALUE.exec(value);
  const expectedMs = match ? parseDuration(match[1]!) : null;
  const maxText = match?.[2] ?? match?.[3];
  const maxMs = maxText === undefined ? null : parseDuration(maxText);
  if (expectedMs === null || (maxText !== undefined && maxMs === null)) {
    findings.push({ file, line, severity: 'error', rule: 'parse', message: `Duration: "${value}" is not like "15m" or "15m (max 25m)" (units ms, s, m, h, d)` });
    return null;
  }
  if (maxMs !== null && maxMs < expectedMs) {
    findings.push({ file, line, severity: 'error', rule: 'parse', message: `Duration: max ${maxText} is shorter than the expected ${match![1]}` });
  }
  return { expectedMs, maxMs, line };
}

function parseCheckpoint(value: string, line: number, file: string, findings: Finding[]): boolean {
  const word = value.toLowerCase();
  if (word === 'manual') return true;
  if (['none', 'no', 'auto', 'automatic', 'false'].includes(word)) return false;
  // A misspelt "manual" would silently drop a confirmation the author asked for.
  findings.push({ file, line, severity: 'error', rule: 'parse', message: `Checkpoint: "${value}" is not understood; write "Checkpoint: manual"` });
  return false;
}
