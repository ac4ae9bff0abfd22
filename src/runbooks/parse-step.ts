// One procedure step: its heading (`### Step 1: Verify Alert`, `Step 1 -`, `Step 1.`) and the blocks
// under it, sorted into prose, commands, verification items and the launch playbook's optional
// Duration / Rollback / Checkpoint lines.
import { parseDuration } from '../duration.js';
import { plain, type Block } from './markdown-blocks.js';
import type { ChecklistItem, Command, Finding, Step, StepDuration } from './runbook.js';

const STEP_HEADING = /^step\s+(\d+)\b\s*(?:[:.)\-–—]\s*)?(.*)$/i;
// `### 1. Verify Alert` is accepted inside a Procedure section only (elsewhere it is just a numbered heading).
const NUMBERED_HEADING = /^(\d+)[.)]\s+(.+)$/;
const MARKER = /^(commands?|verification|verify|duration|rollback|checkpoint)\s*:\s*(.*)$/i;
const INLINE_CODE = /^`([^`]+)`$/;
const CODE_SPAN = /`[^`]+`/;
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

  for (const block of body) {
    const rollbackCode = rollbackAwaitsCode && block.kind === 'fence';
    rollbackAwaitsCode = false;
    if (block.kind === 'paragraph') {
      mode = 'prose';
      const kept: string[] = [];
      block.lines.forEach(({ text, line }, index) => {
        const marker = MARKER.exec(plain(text));
        if (!marker) {
          const code = INLINE_CODE.exec(text);
          if (mode === 'verification') addVerification(text, line);
          else if (mode === 'commands' && code) step.commands.push({ lang: '', code: code[1]!, line });
          else {
            mode = 'prose';
            kept.push(text);
          }
          return;
        }
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
          // A Rollback line that already names its command is complete: the block after it is the step's
          // forward command, and taking it as rollback would re-apply the change on undo.
          rollbackAwaitsCode = index === block.lines.length - 1 && !CODE_SPAN.test(value);
        } else {
          step.checkpointLine = line;
          step.checkpoint = parseCheckpoint(value, line, file, findings);
        }
      });
      if (kept.length) prose.push(kept.join('\n'));
    } else if (block.kind === 'fence') {
      if (rollbackCode) {
        step.rollback = [step.rollback?.replace(/:$/, ''), block.code].filter(Boolean).join('\n');
      } else {
        step.commands.push({ lang: block.lang, code: block.code, line: block.line } satisfies Command);
      }
    } else if (block.kind === 'list' && mode === 'verification') {
      for (const item of block.items) addVerification(item.text, item.line);
    } else {
      prose.push(source(lines, block.start, block.end));
    }
  }
  step.prose = prose.filter((p) => p.trim() !== '').join('\n\n');
  return step;
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
