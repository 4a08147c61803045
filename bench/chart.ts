import { fileURLToPath } from 'node:url';
import { launchBrowser } from '../tests/support/browser.js';

/** One run of `npm run bench:scale`, as bench/scale.json keeps it. */
export interface ScaleRow {
  n: number;
  at: string;
  commit: string;
  machine: string;
  /** The Temporal it ran against, when not a dev server of its own (the chart leaves those out). */
  temporal?: string;
  rssWaitingMiB: number;
  rssPeakMiB: number;
  triggersPerSecond: { api: number; raw: number };
  approvalsPerSecond: { api: number; raw: number };
  interruptionsMs: { p50: number; p95: number };
  /** The same visibility query sent by the raw client (rows from before it was measured lack it). */
  rawInterruptionsMs?: { p50: number; p95: number };
  waitingListMs: { p50: number; p95: number };
  total: number;
  succeeded: number;
  lost: number;
}

const WIDTH = 420;
const HEIGHT = 260;
const PAD = { left: 56, right: 16, top: 36, bottom: 40 };

/** A line chart as SVG: each series a polyline with dots, a dashed goal line, axes with ticks. */
function panel(title: string, unit: string, xs: number[], series: { name: string; color: string; ys: number[] }[], goal: number): string {
  const maxX = Math.max(...xs, 1);
  const maxY = Math.max(goal * 1.35, ...series.flatMap((s) => s.ys)) * 1.05;
  const x = (v: number) => PAD.left + (v / maxX) * (WIDTH - PAD.left - PAD.right);
  const y = (v: number) => HEIGHT - PAD.bottom - (v / maxY) * (HEIGHT - PAD.top - PAD.bottom);
  const ticksY = [0, 0.25, 0.5, 0.75, 1].map((f) => maxY * f);
  const lines = series.map((s) => {
    const points = xs.map((v, i) => `${x(v).toFixed(1)},${y(s.ys[i]!).toFixed(1)}`).join(' ');
    const dots = xs.map((v, i) => `<circle cx="${x(v).toFixed(1)}" cy="${y(s.ys[i]!).toFixed(1)}" r="3" fill="${s.color}"/>`).join('');
    return `<polyline points="${points}" fill="none" stroke="${s.color}" stroke-width="2"/>${dots}`;
  });
  const legend = series
    .map((s, i) => `<text x="${PAD.left + 8}" y="${PAD.top + 14 + i * 14}" font-size="11" fill="${s.color}">${s.name}</text>`)
    .join('') + `<text x="${WIDTH - PAD.right}" y="${y(goal) - 4}" text-anchor="end" font-size="10" fill="#999">goal ${goal} ${unit}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif">
  <text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${title}</text>
  <line x1="${PAD.left}" y1="${HEIGHT - PAD.bottom}" x2="${WIDTH - PAD.right}" y2="${HEIGHT - PAD.bottom}" stroke="#333"/>
  <line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${HEIGHT - PAD.bottom}" stroke="#333"/>
  ${ticksY.map((t) => `<text x="${PAD.left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="10">${Math.round(t)}</text><line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/>`).join('')}
  ${xs.map((v) => `<text x="${x(v)}" y="${HEIGHT - PAD.bottom + 14}" text-anchor="middle" font-size="10">${v.toLocaleString('en')}</text>`).join('')}
  <text x="${WIDTH / 2}" y="${HEIGHT - 6}" text-anchor="middle" font-size="11">waiting deployments</text>
  <text x="14" y="${HEIGHT / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 14 ${HEIGHT / 2})">${unit}</text>
  <line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(goal)}" y2="${y(goal)}" stroke="#999" stroke-dasharray="5 4"/>
  ${lines.join('')}
  ${legend}
</svg>`;
}

/** Draws latency and memory against N from the newest dev-server run for each N, and screenshots it to `png` with Chromium. */
export async function drawChart(rows: ScaleRow[], png: URL): Promise<string> {
  const newest = new Map<number, ScaleRow>();
  for (const row of rows) if (!row.temporal) newest.set(row.n, row);
  const points = [...newest.values()].sort((a, b) => a.n - b.n);
  const xs = points.map((row) => row.n);
  const html = `<!doctype html><body style="margin:0;background:#fff;display:flex">
${panel('List latency (p95)', 'ms', xs, [
  { name: 'GET /api/interruptions (page of 100)', color: '#1f6feb', ys: points.map((r) => r.interruptionsMs.p95) },
  { name: 'GET /api/deployments?status=Waiting', color: '#2da44e', ys: points.map((r) => r.waitingListMs.p95) },
], 100)}
${panel('Memory of API + worker', 'MiB', xs, [
  { name: 'RSS, all waiting', color: '#cf222e', ys: points.map((r) => r.rssWaitingMiB) },
  { name: 'RSS, peak', color: '#bf8700', ys: points.map((r) => r.rssPeakMiB) },
], 1024)}
</body>`;
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH * 2, height: HEIGHT } });
    await page.setContent(html);
    const path = fileURLToPath(png);
    await page.screenshot({ path });
    return path;
  } finally {
    await browser.close();
  }
}
