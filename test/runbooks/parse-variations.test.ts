// What people actually type: other step heading separators and levels, `* [ ]`, `- [x]`, blank lines,
// headings in other case, bold labels, and the launch playbook's Duration / Rollback / Checkpoint lines.
import { describe, expect, it } from 'vitest';
import { parseRunbook } from '../../src/runbooks/parse-runbook.js';
import { lineOf, RUN_101 } from './helpers.js';

const HEADER = `RUN-201: Variations
Category: maintenance
Trigger: Weekly
Owner: SRE
Last Tested: 2026-11-01
`;

describe('tolerated variations', () => {
  const text = `${HEADER}


## SCOPE
* **Handles:** Weekly cleanup; log rotation
* **Does NOT handle:** Restores (see RUN-102, RUN-103)

## procedure


### Step 1 - Dash Separator
Do the first thing carefully:

**Commands:**
\`\`\`bash
echo one
\`\`\`

**Verification:**
* [ ] star checkbox item
- [x] checked item

## Step 2. Dot Separator At Level 2
Run \`cleanup.sh --dry-run\` first and read its output.

Verification: inline verification item

#### Step 3 No Separator At Level 4
Commands:
\`kubectl get pods -n prod\`

Verification:
- [ ] pods listed

### Step 4: Timed
Duration: 15m (max 25m)
Rollback: \`kubectl rollout undo deployment/app-server --to-revision=42\`
Checkpoint: manual

Commands:
\`\`\`sh
kubectl rollout restart deployment/app-server
\`\`\`

Verification:
- [ ] restarted

### Step 5: Rollback With Code Block
Restart the workers.

Duration: 90s
Rollback:
\`\`\`bash
kubectl -n prod scale deployment/worker --replicas=3
\`\`\`

Commands:
\`\`\`bash
kubectl -n prod scale deployment/worker --replicas=6
\`\`\`

#### Verification
- [ ] six workers running

## ESCALATION
- When: never resolves
- Who: SRE lead
- What: logs

## Post-Maintenance
* [ ] Record in the maintenance log
`;
  const { runbook, findings } = parseRunbook(text, 'RUN-201.md');

  it('parses with no findings and normalises the category case', () => {
    expect(findings).toEqual([]);
    expect(runbook?.category).toBe('Maintenance');
  });

  it('accepts `Step 1 -`, `Step 2.` at level 2 and `Step 3` without separator at level 4', () => {
    expect(runbook!.steps.map((s) => [s.key, s.title, s.line])).toEqual([
      ['step-1', 'Dash Separator', lineOf(text, '### Step 1 -')],
      ['step-2', 'Dot Separator At Level 2', lineOf(text, '## Step 2.')],
      ['step-3', 'No Separator At Level 4', lineOf(text, '#### Step 3')],
      ['step-4', 'Timed', lineOf(text, '### Step 4')],
      ['step-5', 'Rollback With Code Block', lineOf(text, '### Step 5')],
    ]);
  });

  it('reads bold labels, `* [ ]` and `- [x]` items, and inline verification', () => {
    const [one, two, three] = runbook!.steps;
    expect(one!.commands).toEqual([{ lang: 'bash', code: 'echo one', line: lineOf(text, '```bash') }]);
    expect(one!.verification.map((v) => [v.key, v.text, v.line])).toEqual([
      ['step-1.v1', 'star checkbox item', lineOf(text, '* [ ] star')],
      ['step-1.v2', 'checked item', lineOf(text, '- [x] checked')],
    ]);
    expect(two!.prose).toBe('Run `cleanup.sh --dry-run` first and read its output.');
    expect(two!.verification.map((v) => v.text)).toEqual(['inline verification item']);
    expect(three!.commands).toEqual([{ lang: '', code: 'kubectl get pods -n prod', line: lineOf(text, '`kubectl get pods') }]);
  });

  it('reads Duration, an inline Rollback and Checkpoint: manual', () => {
    const four = runbook!.steps[3]!;
    expect(four.duration).toEqual({ expectedMs: 15 * 60_000, maxMs: 25 * 60_000, line: lineOf(text, 'Duration: 15m') });
    expect(four.rollback).toBe('kubectl rollout undo deployment/app-server --to-revision=42');
    expect(four.rollbackLine).toBe(lineOf(text, 'Rollback: `kubectl'));
    expect(four.checkpoint).toBe(true);
    expect(four.commands.map((c) => c.code)).toEqual(['kubectl rollout restart deployment/app-server']);
  });

  it('takes the code block after `Rollback:` as the rollback, not as a command; `#### Verification` works as a label', () => {
    const five = runbook!.steps[4]!;
    expect(five.duration).toEqual({ expectedMs: 90_000, maxMs: null, line: lineOf(text, 'Duration: 90s') });
    expect(five.rollback).toBe('kubectl -n prod scale deployment/worker --replicas=3');
    expect(five.commands.map((c) => c.code)).toEqual(['kubectl -n prod scale deployment/worker --replicas=6']);
    expect(five.checkpoint).toBe(false);
    expect(five.verification.map((v) => v.text)).toEqual(['six workers running']);
  });

  it('reads sections whatever their case, with `;`-separated scope and short escalation labels', () => {
    expect(runbook!.scope.handles.map((s) => s.text)).toEqual(['Weekly cleanup', 'log rotation']);
    expect(runbook!.scope.doesNotHandle).toEqual([{ text: 'Restores', refs: ['RUN-102', 'RUN-103'], line: lineOf(text, 'Does NOT handle') }]);
    expect(runbook!.escalation).toMatchObject({ when: 'never resolves', who: 'SRE lead', what: 'logs' });
    expect(runbook!.postIncident).toEqual([{ key: 'post-1', text: 'Record in the maintenance log', line: lineOf(text, 'Record in the maintenance log') }]);
  });
});

describe('structure problems', () => {
  it('reports a file without a RUN- line and returns no runbook', () => {
    const { runbook, findings } = parseRunbook('# Notes\n\nSome text\n', 'notes.md');
    expect(runbook).toBeNull();
    expect(findings).toEqual([{ file: 'notes.md', line: 1, severity: 'error', rule: 'parse', message: expect.stringContaining('RUN-<number>') }]);
  });

  it('rejects an unknown category at its line', () => {
    const { runbook, findings } = parseRunbook(RUN_101.replace('Category: Incident', 'Category: Incdent'), 'x.md');
    expect(runbook).toBeNull();
    expect(findings.map((f) => [f.rule, f.line])).toEqual([['parse', 2]]);
  });

  it('returns no runbook when a code block is not closed before the next one opens', () => {
    const text = RUN_101.replace('redis-cli -h {{alert.labels.instance}} info memory\n```', 'redis-cli -h {{alert.labels.instance}} info memory');
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(runbook).toBeNull();
    expect(findings).toEqual([
      expect.objectContaining({ rule: 'parse', line: lineOf(text, '```bash'), message: expect.stringContaining(`line ${lineOf(text, '```bash', lineOf(text, '```bash') + 1)}`) }),
    ]);
  });

  it('returns no runbook when the last code block is never closed', () => {
    const text = RUN_101.replace('config set maxmemory 6gb\n```', 'config set maxmemory 6gb');
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(runbook).toBeNull();
    expect(findings).toEqual([expect.objectContaining({ rule: 'parse', line: lineOf(text, '```bash', lineOf(text, 'Raise maxmemory')), message: expect.stringContaining('never closed') })]);
  });

  it('reports an unreadable Duration and a misspelt Checkpoint but keeps the runbook', () => {
    const text = RUN_101.replace('Duration: 5m (max 10m)', 'Duration: 5 minutes\nCheckpoint: manaul');
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(runbook?.steps[1]!.duration).toBeNull();
    expect(runbook?.steps[1]!.checkpoint).toBe(false);
    expect(findings.map((f) => [f.rule, f.line])).toEqual([['parse', lineOf(text, 'Duration: 5 minutes')], ['parse', lineOf(text, 'Checkpoint: manaul')]]);
  });

  it('is not servable when a misspelt step heading would drop the step, and says so at the heading', () => {
    for (const typo of ['### Step Two: Raise maxmemory', '### Raise maxmemory', '### Step2 Raise maxmemory']) {
      const text = RUN_101.replace('### Step 2: Raise maxmemory', typo);
      const { runbook, findings, servable } = parseRunbook(text, 'x.md');
      expect(servable, typo).toBe(false);
      // One error for the heading; the text under it is part of the same mistake.
      expect(findings, typo).toEqual([
        { file: 'x.md', line: lineOf(text, typo), severity: 'error', rule: 'parse', message: `"${typo}" in the procedure is not a step heading, so it and the text under it would be dropped; write "### Step N: <title>"` },
      ]);
      // Still read as it was before this was refused: an incident that pinned such a version keeps its steps.
      expect(runbook!.steps.map((s) => s.number), typo).toEqual([1]);
    }
    expect(parseRunbook(RUN_101, 'x.md').servable).toBe(true);
  });

  it('is not servable when the first step heading is misspelt; a line of introduction before it is only a warning', () => {
    const misspelt = RUN_101.replace('### Step 1: Check Memory', '### Step One: Check Memory');
    expect(parseRunbook(misspelt, 'x.md')).toMatchObject({ servable: false, findings: [expect.objectContaining({ line: lineOf(misspelt, '### Step One'), severity: 'error', rule: 'parse' })] });
    // An introduction loses little and must not take the runbook out of service (at start there is no version to keep).
    const intro = RUN_101.replace('## Procedure\n', '## Procedure\nRun these from the bastion.\n\n- on the replica first\n\n');
    expect(parseRunbook(intro, 'x.md')).toMatchObject({
      servable: true,
      findings: [
        { file: 'x.md', line: lineOf(intro, 'Run these from'), severity: 'warning', rule: 'procedure-intro', message: 'text in the procedure before the first step heading is not shown on the page; put it in a step ("### Step 1: <title>") or above "## Procedure"' },
      ],
    });
  });

  it('still reads a level-4 heading inside a step, and a level-2 heading that ends the procedure, as before', () => {
    const text = RUN_101.replace('Verification:\n- [ ] Evictions below 100/s', 'Verification:\n- [ ] Evictions below 100/s\n\n#### Notes\nRaise it back later.\n\n## Appendix\nNot part of any step.');
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(findings).toEqual([]);
    expect(runbook!.steps[1]!.prose).toContain('Raise it back later.');
  });

  it('keeps keys unique when a step number repeats, and reports it', () => {
    const text = RUN_101.replace('### Step 2: Raise maxmemory', '### Step 1: Raise maxmemory');
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(runbook!.steps.map((s) => s.key)).toEqual(['step-1', 'step-1-2']);
    expect(runbook!.steps[1]!.verification[0]!.key).toBe('step-1-2.v1');
    expect(findings).toEqual([expect.objectContaining({ rule: 'parse', line: lineOf(text, 'Raise maxmemory') })]);
  });

  it('reads CRLF files with the same lines', () => {
    const { runbook, findings } = parseRunbook(RUN_101.replace(/\n/g, '\r\n'), 'x.md');
    expect(findings).toEqual([]);
    expect(runbook!.steps.map((s) => s.line)).toEqual([lineOf(RUN_101, '### Step 1'), lineOf(RUN_101, '### Step 2')]);
    expect(runbook!.steps[0]!.commands[0]!.code).toBe('redis-cli -h {{alert.labels.instance}} info memory');
  });

  it('reads `#### Rollback` followed by a code block as the rollback', () => {
    const text = RUN_101.replace('Duration: 5m (max 10m)\n', 'Duration: 5m (max 10m)\n\n#### Rollback\n```bash\nredis-cli config set maxmemory 4gb\n```\n');
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(findings).toEqual([]);
    expect(runbook!.steps[1]!.rollback).toBe('redis-cli config set maxmemory 4gb');
    expect(runbook!.steps[1]!.rollbackLine).toBe(lineOf(text, '#### Rollback'));
    expect(runbook!.steps[1]!.commands.map((c) => c.code)).toEqual(['redis-cli -h {{alert.labels.instance}} config set maxmemory 6gb']);
  });

  it('accepts a `# RUN-101: Title` heading as the id line', () => {
    const { runbook, findings } = parseRunbook(`# ${RUN_101}`, 'x.md');
    expect(findings).toEqual([]);
    expect(runbook).toMatchObject({ id: 'RUN-101', title: 'Cache Eviction Storm', owner: 'Platform Team' });
  });
});

describe('header variations', () => {
  it.each(['##', '###', '######'])('accepts a `%s RUN-101: Title` heading as the id line', (hashes) => {
    const { runbook, findings } = parseRunbook(`${hashes} ${RUN_101}`, 'x.md');
    expect(findings).toEqual([]);
    expect(runbook).toMatchObject({ id: 'RUN-101', title: 'Cache Eviction Storm', category: 'Incident', owner: 'Platform Team' });
    expect(runbook!.steps.map((s) => s.key)).toEqual(['step-1', 'step-2']);
  });

  it('tolerates a trailing markdown line break backslash on header lines', () => {
    const text = RUN_101.replace(/^(RUN-101: .*|Category: .*|Trigger: .*|Owner: .*)$/gm, '$1\\');
    expect(text.split('\n').slice(0, 4).every((l) => l.endsWith('\\'))).toBe(true);
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(findings).toEqual([]);
    expect(runbook).toMatchObject({ title: 'Cache Eviction Storm', category: 'Incident', owner: 'Platform Team', lastTested: '2026-11-01' });
    expect(runbook!.trigger?.text).toBe('MON-101 alert (evictions above 1000/s)');
  });

  it('reads the header when a `---` line directly follows it (a setext heading to markdown)', () => {
    const text = RUN_101.replace('Last Tested: 2026-11-01\n', 'Last Tested: 2026-11-01\n---\n');
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(findings).toEqual([]);
    expect(runbook).toMatchObject({ id: 'RUN-101', title: 'Cache Eviction Storm', category: 'Incident', lastTested: '2026-11-01' });
    expect(runbook!.lines.lastTested).toBe(lineOf(text, 'Last Tested:'));
  });
});

describe('marker lines directly under a list item', () => {
  const STEP_2_DURATION = 'Duration: 5m (max 10m)\n\n';

  it('ends the verification item at Duration, Checkpoint and Rollback lines instead of joining them to its text', () => {
    const text = RUN_101.replace(STEP_2_DURATION, '').replace(
      '- [ ] Evictions below 100/s\n',
      '- [ ] Evictions below 100/s\nDuration: 5m (max 10m)\nCheckpoint: manual\nRollback: `redis-cli config set maxmemory 4gb`\n',
    );
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(findings).toEqual([]);
    const two = runbook!.steps[1]!;
    expect(two.verification.map((v) => v.text)).toEqual(['Evictions below 100/s']);
    expect(two.duration).toEqual({ expectedMs: 5 * 60_000, maxMs: 10 * 60_000, line: lineOf(text, 'Duration: 5m') });
    expect([two.checkpoint, two.checkpointLine]).toEqual([true, lineOf(text, 'Checkpoint: manual')]);
    expect([two.rollback, two.rollbackLine]).toEqual(['redis-cli config set maxmemory 4gb', lineOf(text, 'Rollback:')]);
  });

  it('does the same for bold labels', () => {
    const text = RUN_101.replace('- [ ] Evictions below 100/s\n', '- [ ] Evictions below 100/s\n**Checkpoint:** manual\n**Rollback**: `redis-cli config set maxmemory 4gb`\n');
    const two = parseRunbook(text, 'x.md').runbook!.steps[1]!;
    expect(two.verification.map((v) => v.text)).toEqual(['Evictions below 100/s']);
    expect(two.checkpoint).toBe(true);
    expect(two.rollback).toBe('redis-cli config set maxmemory 4gb');
  });

  it('reads `Verification:` directly under a prose bullet list as the label of the checklist that follows', () => {
    const text = RUN_101.replace(
      'Check memory usage on the node:\n\nCommands:\n```bash\nredis-cli -h {{alert.labels.instance}} info memory\n```\n\nVerification:\n',
      '- Open the Redis dashboard for {{alert.labels.instance}}\n- Compare used_memory with maxmemory\nVerification:\n',
    );
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(findings).toEqual([]);
    const one = runbook!.steps[0]!;
    expect(one.prose).toBe('- Open the Redis dashboard for {{alert.labels.instance}}\n- Compare used_memory with maxmemory');
    expect(one.verification.map((v) => [v.text, v.line])).toEqual([['used_memory below maxmemory', lineOf(text, '- [ ] used_memory')]]);
  });

  it('still joins an ordinary lazy continuation line to the item', () => {
    const text = RUN_101.replace('- [ ] Evictions below 100/s\n', '- [ ] Evictions below 100/s\nacross all nodes\n');
    expect(parseRunbook(text, 'x.md').runbook!.steps[1]!.verification.map((v) => v.text)).toEqual(['Evictions below 100/s across all nodes']);
  });
});

describe('an inline Rollback before the step command', () => {
  const FORWARD = 'redis-cli -h {{alert.labels.instance}} config set maxmemory 6gb';

  it.each([
    ['a blank line', '\n\n'],
    ['no blank line', '\n'],
  ])('keeps the code block after `Rollback: \\`…\\`` and %s as the step command', (_, gap) => {
    const text = RUN_101.replace('Duration: 5m (max 10m)\n\nCommands:\n', `Raise the limit on the affected node.\nRollback: \`redis-cli config set maxmemory 4gb\`${gap}`);
    const two = parseRunbook(text, 'x.md').runbook!.steps[1]!;
    expect(two.rollback).toBe('redis-cli config set maxmemory 4gb');
    expect(two.commands.map((c) => c.code)).toEqual([FORWARD]);
    expect(two.prose).toBe('Raise the limit on the affected node.');
  });
});

describe('a labelled line right under a checklist item outside the steps', () => {
  it('stays the wrapped text of that Prerequisites item', () => {
    const text = RUN_101.replace('- [ ] redis-cli access\n', '- [ ] redis-cli access\nVerify: you can run redis-cli ping\n');
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(findings).toEqual([]);
    expect(runbook!.prerequisites.map((p) => p.text)).toEqual(['redis-cli access Verify: you can run redis-cli ping']);
  });
});

describe('a Rollback line that mentions a command in prose', () => {
  it('still takes the code block after it as the rollback', () => {
    const text = RUN_101.replace('Duration: 5m (max 10m)\n\nCommands:\n```bash\nredis-cli -h {{alert.labels.instance}} config set maxmemory 6gb\n```\n',
      'Duration: 5m (max 10m)\n\nCommands:\n```bash\nredis-cli -h {{alert.labels.instance}} config set maxmemory 6gb\n```\n\nRollback: nothing to undo for `config set`; if the pool was resized, restore it:\n\n```bash\nkubectl set env deploy/app DB_POOL_MAX=20\n```\n');
    const two = parseRunbook(text, 'x.md').runbook!.steps[1]!;
    expect(two.commands.map((c) => c.code)).toEqual(['redis-cli -h {{alert.labels.instance}} config set maxmemory 6gb']);
    expect(two.rollback).toContain('kubectl set env deploy/app DB_POOL_MAX=20');
  });
});

describe('a --- directly under a line of a step', () => {
  it('leaves a short title underlined on purpose a heading that ends the step', () => {
    const text = RUN_101.replace('## Escalation', 'Notes\n---\n\nSomething unrelated to the steps.\n\n## Escalation');
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(runbook!.steps.at(-1)!.prose).not.toContain('Something unrelated');
    expect(findings).toEqual([]);
  });

  it('keeps that line in the step (markdown would make it a heading that ended the step) and warns where', () => {
    const text = RUN_101.replace('### Step 2', 'If the node is a replica, repeat on the primary\n---\n\n### Step 2');
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(runbook!.steps.map((s) => s.number)).toEqual([1, 2]);
    expect(runbook!.steps[0]!.prose).toContain('If the node is a replica, repeat on the primary');
    expect(findings).toEqual([
      { file: 'x.md', line: lineOf(text, 'If the node is a replica') + 1, severity: 'warning', rule: 'parse', message: '"If the node is a replica, repeat on the primary" directly above this line would be a heading in markdown; put a blank line above the --- (read as a line of the step)' },
    ]);
  });
});

describe('where an unclosed code block is reported', () => {
  const STEP_1_CLOSE = 'info memory\n```';
  const STEP_2_OPEN = '```bash\nredis-cli -h {{alert.labels.instance}} config set';

  it('points at the fence that is never closed when a later bare ``` pairs with the wrong one', () => {
    const text = RUN_101.replace(STEP_1_CLOSE, 'info memory\n').replace(STEP_2_OPEN, '```\nredis-cli -h {{alert.labels.instance}} config set');
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(runbook).toBeNull();
    expect(findings).toEqual([expect.objectContaining({ rule: 'parse', line: lineOf(text, '```bash'), message: expect.stringContaining('never closed') })]);
  });

  it('does so when every fence is bare', () => {
    const text = RUN_101.replace(STEP_1_CLOSE, 'info memory\n').replaceAll('```bash', '```');
    const { findings } = parseRunbook(text, 'x.md');
    expect(findings).toEqual([expect.objectContaining({ rule: 'parse', line: lineOf(text, '```'), message: expect.stringContaining('never closed') })]);
  });

  it('still points at the last fence when it is the one left open', () => {
    const text = RUN_101.replace(`${STEP_2_OPEN} maxmemory 6gb\n\`\`\``, '```\nredis-cli -h {{alert.labels.instance}} config set maxmemory 6gb');
    const { findings } = parseRunbook(text, 'x.md');
    expect(findings).toEqual([expect.objectContaining({ rule: 'parse', line: lineOf(text, '```', lineOf(text, 'Raise maxmemory')), message: expect.stringContaining('never closed') })]);
  });
});

describe('step fields written as bullets', () => {
  const STEP_2 = 'Duration: 5m (max 10m)\n\nCommands:\n```bash\nredis-cli -h {{alert.labels.instance}} config set maxmemory 6gb\n```\n';
  const FORWARD = 'redis-cli -h {{alert.labels.instance}} config set maxmemory 6gb';
  const stepTwo = (body: string) => {
    const text = RUN_101.replace(STEP_2, body);
    const { runbook, findings } = parseRunbook(text, 'x.md');
    return { text, findings, two: runbook!.steps[1]! };
  };

  it('reads `- Duration:`, `- Checkpoint:` and `- Rollback:` as the fields, not as prose', () => {
    const { text, findings, two } = stepTwo(`- Duration: 5m (max 10m)\n- Checkpoint: manual\n- Rollback: \`redis-cli config set maxmemory 4gb\`\n\n${STEP_2.slice(STEP_2.indexOf('Commands:'))}`);
    expect(findings).toEqual([]);
    expect(two.prose).toBe('');
    expect(two.duration).toEqual({ expectedMs: 5 * 60_000, maxMs: 10 * 60_000, line: lineOf(text, '- Duration: 5m') });
    expect([two.checkpoint, two.checkpointLine]).toEqual([true, lineOf(text, '- Checkpoint: manual')]);
    expect([two.rollback, two.rollbackLine]).toEqual(['redis-cli config set maxmemory 4gb', lineOf(text, '- Rollback:')]);
    expect(two.commands.map((c) => c.code)).toEqual([FORWARD]);
  });

  it('keeps the other bullets of the list as prose and reports a bad value at its bullet', () => {
    const { text, findings, two } = stepTwo(`- Raise the limit on the affected node\n- **Checkpoint**: manaul\n- Watch the eviction graph\n\n${STEP_2.slice(STEP_2.indexOf('Commands:'))}`);
    expect(findings).toEqual([expect.objectContaining({ rule: 'parse', line: lineOf(text, 'Checkpoint**: manaul') })]);
    expect(two.prose).toBe('- Raise the limit on the affected node\n- Watch the eviction graph');
    expect(two.checkpoint).toBe(false);
  });

  it('reads `* Commands:` followed by a code block, indented under the bullet or not', () => {
    for (const indent of ['', '  ']) {
      const fence = ['```bash', FORWARD, '```'].map((l) => indent + l).join('\n');
      const { text, findings, two } = stepTwo(`* Commands:\n${fence}\n`);
      expect(findings).toEqual([]);
      expect(two.prose).toBe('');
      expect(two.commands).toEqual([{ lang: 'bash', code: FORWARD, line: lineOf(text, '```bash', lineOf(text, 'Raise maxmemory')) }]);
    }
  });

  it('takes the code block after a last `- Rollback:` bullet as the rollback', () => {
    const { findings, two } = stepTwo(`- Checkpoint: manual\n- Rollback:\n\n\`\`\`bash\nredis-cli config set maxmemory 4gb\n\`\`\`\n\n${STEP_2.slice(STEP_2.indexOf('Commands:'))}`);
    expect(findings).toEqual([]);
    expect(two.rollback).toBe('redis-cli config set maxmemory 4gb');
    expect(two.commands.map((c) => c.code)).toEqual([FORWARD]);
  });

  it('reads `- Verification:` with its items in the same list or nested under it', () => {
    for (const items of ['- [ ] Evictions below 100/s', '  - [ ] Evictions below 100/s']) {
      const text = RUN_101.replace('Verification:\n- [ ] Evictions below 100/s', `- Verification:\n${items}`);
      const { runbook, findings } = parseRunbook(text, 'x.md');
      expect(findings).toEqual([]);
      expect(runbook!.steps[1]!.verification.map((v) => [v.text, v.line])).toEqual([['Evictions below 100/s', lineOf(text, '- [ ] Evictions')]]);
      expect(runbook!.steps[1]!.prose).toBe('');
    }
  });

  it('keeps `- [ ] …` items that start with a label as verification items', () => {
    const text = RUN_101.replace('- [ ] Evictions below 100/s\n', '- [ ] Evictions below 100/s\n- [ ] Checkpoint: manual sign-off recorded\n- Duration: 2m\n');
    const { runbook, findings } = parseRunbook(text, 'x.md');
    expect(findings).toEqual([]);
    const two = runbook!.steps[1]!;
    expect(two.verification.map((v) => v.text)).toEqual(['Evictions below 100/s', 'Checkpoint: manual sign-off recorded']);
    expect(two.checkpoint).toBe(false);
    expect(two.duration).toEqual({ expectedMs: 2 * 60_000, maxMs: null, line: lineOf(text, '- Duration: 2m') });
  });
});
