// A reference filled into a command block puts a value the alert's sender chose into what the responder pastes into a
// shell. The page keeps the value as it is (HTML-escaped) but marks one that holds characters a shell acts on, and says
// so on that command; ordinary values (host:port, paths, key=value) and references outside commands stay unmarked.
import fs from 'node:fs/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { shellCharsOf } from '../../src/http/render-runbook.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerBody, copyRunbooksWith, incidentIdOf, incidentPage, postAlertmanager } from './helpers.js';

const clock = fixedClock('2026-08-14T09:20:00.000Z');
let database: TestDatabase;
let service: Service;
let runbooksDir: string;

// The instance label in prose, inline code, a command, a rollback and a checklist item; the job value in the command only.
const RUN_003 = `RUN-003: Exporter down on {{alert.labels.instance}}
Category: Incident
Trigger: MON-031, MON-032, MON-033 alerts
Owner: Backend Team
Last Tested: 2026-07-20

## Scope
- **Handles**: A metrics exporter that stopped answering
- **Does NOT handle**: Anything else (see RUN-001)

## Prerequisites
- [ ] Shell on {{alert.labels.instance}}

## Procedure

### Step 1: Restart the exporter
The exporter on {{alert.labels.instance}} stopped answering; try \`curl {{alert.labels.instance}}\` first.

Commands:
\`\`\`bash
curl -s "http://{{alert.labels.instance}}/metrics" | grep -c {{alert.values.job}}
sudo systemctl restart exporter
\`\`\`

Rollback:
\`\`\`bash
sudo systemctl stop exporter@{{alert.labels.instance}}
\`\`\`

Verification:
- [ ] {{alert.labels.instance}} answers

### Step 2: Look at the database host
Commands:
\`\`\`bash
ssh -J bastion {{alert.labels.instance}} 'sudo systemctl status postgresql'
\`\`\`

Verification:
- [ ] postgresql is active

### Step 3: Check the dashboard
No references in this command.

Commands:
\`\`\`bash
echo "$HOSTNAME" && uptime
\`\`\`

Verification:
- [ ] Graph is back

## Escalation
- **When to escalate**: {{alert.labels.instance}} stays down
- **Who to contact**: Backend on-call
- **What to provide**: Timeline

## Post-Incident
- [ ] Write up {{alert.labels.instance}}

Linked IDs: MON-031 (alert), RUN-001
`;

const HOSTILE = 'x$(touch /tmp/pwn)';
const webhook = (body: string) => postAlertmanager(service.app, body);
const page = (id: number) => incidentPage(service.app, id);
const open = async (fingerprint: string, monId: string, instance: string, job: string) =>
  incidentIdOf(await webhook(alertmanagerBody([{ fingerprint, monId, labels: { instance }, annotations: { summary: 'Exporter down', job } }])).expect(202));
const between = (html: string, from: string, to: string) => html.slice(html.indexOf(from), html.indexOf(to, html.indexOf(from)));

beforeAll(async () => {
  database = await createTestDatabase();
  runbooksDir = await copyRunbooksWith('RUN-003.md', RUN_003, ['MON-031', 'MON-032', 'MON-033', 'MON-034', 'MON-035', 'MON-036'], 'Exporter down');
  service = await createTestService(database, { RUNBOOKS_DIR: runbooksDir }, { clock });
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
  if (runbooksDir) await fs.rm(runbooksDir, { recursive: true, force: true });
});

describe('values with shell characters filled into commands', () => {
  it('marks the value and puts a note on that command and its rollback; prose, checklists and other commands stay as they were', async () => {
    const id = await open('5e11000000000001', 'MON-031', HOSTILE, 'node');
    // Rendered twice: the second comes from the markdown cache and must say the same.
    for (let round = 0; round < 2; round++) {
      const html = await page(id);
      const step1 = between(html, 'id="step-1"', 'id="step-2"');
      const command = between(step1, '<figure class="command', '</figure>');
      expect(command).toContain('<figure class="command has-unsafe">');
      expect(command).toContain(
        '<p class="command-note" role="note"><span aria-hidden="true">⚠</span> A value from the alert in this command contains shell characters (<code>$</code>, <code>(</code>, a space, <code>)</code>): read it before running.</p>',
      );
      // The value itself is shown exactly, escaped, and marked; the title says which reference and why.
      expect(command).toContain(
        'curl -s &quot;http://<span class="ref ref-unsafe" title="{{alert.labels.instance}} — from the alert, with characters a shell acts on ($, (, space, )): read it before running">x$(touch /tmp/pwn)</span>/metrics&quot;',
      );
      // The ordinary value in the same command keeps the plain mark.
      expect(command).toContain('grep -c <span class="ref" title="{{alert.values.job}}">node</span>');
      // The note comes before the command, so it is read before anything is copied.
      expect(command.indexOf('command-note')).toBeLessThan(command.indexOf('<pre>'));

      const rollback = between(step1, '<figure class="command rollback', '</figure>');
      expect(rollback).toContain('<figure class="command rollback has-unsafe">');
      expect(rollback).toContain('A value from the alert in this command contains shell characters');
      expect(rollback).toContain('exporter@<span class="ref ref-unsafe"');

      // Outside commands the same value is text to read, not to run: no warning there (and no per-page cost).
      expect(between(step1, '<div class="prose">', '</div>')).toContain(`<span class="ref" title="{{alert.labels.instance}}">${HOSTILE}</span>`);
      // Step 1's command and rollback, and step 2's command.
      expect(html.match(/ref-unsafe/g)).toHaveLength(3);
      expect(html.match(/class="command-note"/g)).toHaveLength(3);
      // A command without references is untouched, even though it is full of shell syntax.
      const step3 = between(html, 'id="step-3"', 'class="checklist step-end"');
      expect(step3).toContain('<figure class="command">');
      expect(step3).not.toContain('command-note');
    }
  });

  it('leaves ordinary values unmarked — also when the same runbook was just rendered with a hostile one', async () => {
    const hostile = await open('5e11000000000002', 'MON-032', "a;b'c", 'node');
    const ordinary = await open('5e11000000000003', 'MON-033', 'checkout-7:8080', 'pg-primary-1:9187,job=db@eu-1%');
    expect(await page(hostile)).toContain('(<code>;</code>, <code>&#x27;</code>)');
    for (const id of [ordinary, hostile, ordinary]) {
      const html = await page(id);
      if (id === hostile) {
        expect(html).toContain('ref-unsafe');
        continue;
      }
      expect(html).not.toContain('ref-unsafe');
      expect(html).not.toContain('command-note');
      expect(html).not.toContain('has-unsafe');
      expect(html).toContain('curl -s &quot;http://<span class="ref" title="{{alert.labels.instance}}">checkout-7:8080</span>/metrics&quot;');
      expect(html).toContain('grep -c <span class="ref" title="{{alert.values.job}}">pg-primary-1:9187,job=db@eu-1%</span>');
    }
  });

  it('warns of a value with a space, which ends the word: the rest of it runs as a command of its own', async () => {
    // Pasted, `ssh -J bastion db-7.prod sudo rm -rf -- /var/lib/postgresql/data '…'` runs rm on db-7.prod.
    const spaced = await open('5e11000000000004', 'MON-034', 'db-7.prod sudo rm -rf -- /var/lib/postgresql/data', 'node');
    const tabbed = await open('5e11000000000005', 'MON-035', 'db-7.prod\tsudo\treboot', 'node');
    const unicode = await open('5e11000000000006', 'MON-036', 'db-7.prod\u00a0sudo\u3000reboot', 'node');
    const cases: [number, string, string][] = [
      [spaced, 'a space', 'space'],
      [tabbed, 'a tab', 'tab'],
      [unicode, 'a Unicode space U+00A0, a Unicode space U+3000', 'Unicode space U+00A0, Unicode space U+3000'],
    ];
    for (const [id, note, title] of cases) {
      const step2 = between(await page(id), 'id="step-2"', 'id="step-3"');
      expect(step2).toContain('<figure class="command has-unsafe">');
      expect(step2).toContain(`A value from the alert in this command contains shell characters (${note}): read it before running.</p>`);
      expect(step2).toContain(`ssh -J bastion <span class="ref ref-unsafe" title="{{alert.labels.instance}} — from the alert, with characters a shell acts on (${title}): read it before running">`);
    }
  });

  it('shows no warning on the catalog page, where nothing is filled', async () => {
    const html = (await request(service.app).get('/runbooks/RUN-003').set('Accept', 'text/html').expect(200)).text;
    expect(html).toContain('<span class="ref ref-missing" title="filled from the alert on the incident page">{{alert.labels.instance}}</span>');
    expect(html).not.toContain('command-note');
  });
});

describe('shellCharsOf', () => {
  it('finds what a shell acts on and nothing in ordinary values', () => {
    for (const ordinary of ['pg-primary-1:9187', 'checkout-7:8080', 'db.internal', '/var/log/app.log', 'user@host', 'a=b,c=d', '95%', 'eu-west-1', 'a~b', 'a#b', 'pool-at-96%', 'http://host:9090/graph']) {
      expect(shellCharsOf(ordinary), ordinary).toBeNull();
    }
    const cases: [string, string[]][] = [
      ['x$(touch /tmp/pwn)', ['$', '(', 'space', ')']],
      ['`id`', ['`']],
      ['a;b|c&d', [';', '|', '&']],
      ['<in >out', ['<', 'space', '>']],
      ['a\\b', ['\\']],
      [`it's "quoted"`, ["'", 'space', '"']],
      ['one\ntwo', ['line break']],
      ['one\rtwo\u001b[2J', ['carriage return', 'control character', '[']],
      ['-rf', ['leading -']],
      ['~root', ['leading ~']],
      ['#comment', ['leading #']],
      ['*.log', ['*']],
      ['a?b[c]{d,e}', ['?', '[', ']', '{', '}']],
      ['!!', ['!']],
      ['http://host/graph?g0.expr=up&x=1', ['?', '&']],
      // Any whitespace ends a word; the Unicode ones look like an ordinary space, or like nothing at all.
      ['db-7.prod sudo rm -rf -- /var/lib/postgresql/data', ['space']],
      ['pool at 96%', ['space']],
      ['a\tb', ['tab']],
      ['a\u00a0b\u2000c\u200ad\u3000e', ['Unicode space U+00A0', 'Unicode space U+2000', 'Unicode space U+200A', 'Unicode space U+3000']],
      ['a\vb\fc', ['control character']],
    ];
    for (const [value, chars] of cases) expect(shellCharsOf(value), JSON.stringify(value)).toEqual(chars);
  });
});
