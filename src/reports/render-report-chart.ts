// A small inline SVG of last week: incidents opened per day (bars, left axis) and that day's MTTA (line, right axis).
// Self-contained (no fonts, scripts or external references) so it renders in the page as is.
import { formatDuration } from '../duration.js';
import { plural } from '../plural.js';
import type { ReportChartDay } from './report-types.js';

const W = 560;
const H = 220;
const PAD = { left: 40, right: 56, top: 24, bottom: 36 };
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const r1 = (n: number) => Math.round(n * 10) / 10;

export function renderReportChartSvg(days: readonly ReportChartDay[]): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const maxCount = Math.max(1, ...days.map((d) => d.incidents));
  const maxMtta = Math.max(60_000, ...days.map((d) => d.mttaMs ?? 0));
  const slot = plotW / Math.max(1, days.length);
  const barW = slot * 0.6;
  const yCount = (n: number) => PAD.top + plotH - (n / maxCount) * plotH;
  const yMtta = (v: number) => PAD.top + plotH - (v / maxMtta) * plotH;
  const x = (i: number) => PAD.left + slot * i + slot / 2;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="report-chart-title" font-family="sans-serif" font-size="11">`,
    `<title id="report-chart-title">Incidents per day and MTTA, ${esc(days[0]?.date ?? '')} to ${esc(days.at(-1)?.date ?? '')}</title>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" stroke="#999"/>`,
    `<text x="${PAD.left - 6}" y="${PAD.top + 4}" text-anchor="end" fill="#335">${maxCount}</text>`,
    `<text x="${PAD.left - 6}" y="${PAD.top + plotH}" text-anchor="end" fill="#335">0</text>`,
    `<text x="${PAD.left}" y="${PAD.top - 8}" fill="#335">incidents</text>`,
    `<text x="${W - PAD.right + 6}" y="${PAD.top + 4}" fill="#b35900">${esc(formatDuration(maxMtta))}</text>`,
    `<text x="${W - PAD.right}" y="${PAD.top - 8}" text-anchor="end" fill="#b35900">MTTA</text>`,
  );
  days.forEach((d, i) => {
    const top = yCount(d.incidents);
    const label = `${d.date}: ${plural(d.incidents, 'incident')}${d.mttaMs === null ? '' : `, MTTA ${formatDuration(d.mttaMs)}`}`;
    parts.push(
      `<g class="day"><title>${esc(label)}</title>`,
      `<rect x="${r1(x(i) - barW / 2)}" y="${r1(top)}" width="${r1(barW)}" height="${r1(PAD.top + plotH - top)}" fill="#5b7db1" data-incidents="${d.incidents}"/>`,
      d.incidents ? `<text x="${r1(x(i))}" y="${r1(top - 3)}" text-anchor="middle" fill="#335">${d.incidents}</text>` : '',
      `<text x="${r1(x(i))}" y="${H - PAD.bottom + 14}" text-anchor="middle" fill="#333">${WEEKDAYS[i] ?? ''}</text>`,
      `<text x="${r1(x(i))}" y="${H - PAD.bottom + 27}" text-anchor="middle" fill="#777">${esc(d.date.slice(5))}</text>`,
      `</g>`,
    );
  });
  const points = days.map((d, i) => (d.mttaMs === null ? null : `${r1(x(i))},${r1(yMtta(d.mttaMs))}`));
  // The line breaks on days without an acknowledged incident.
  const runs: string[][] = [[]];
  for (const p of points) {
    if (p === null) runs.push([]);
    else runs.at(-1)!.push(p);
  }
  for (const run of runs.filter((r) => r.length)) {
    if (run.length > 1) parts.push(`<polyline points="${run.join(' ')}" fill="none" stroke="#b35900" stroke-width="2"/>`);
    for (const p of run) {
      const [cx, cy] = p.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="#b35900"/>`);
    }
  }
  parts.push('</svg>');
  return parts.filter(Boolean).join('');
}
