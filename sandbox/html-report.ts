/**
 * `simulate --report <file.html>`: one self-contained page (no external assets) with the state
 * machine drawn from the real ASL definition, coloured by the path this run took, and a timeline of
 * the states on the virtual clock. A small inline script checks, in the browser, that the drawing
 * was laid out and marks the page `data-rendered`, which the test reads from headless Chromium.
 */
import { isSafetyNetWake, taskDefinitionPath } from './report/decisions';
import type { SimulationDocument, StateEntry } from './run/result';

interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly Default?: string;
  readonly End?: boolean;
  readonly Choices?: readonly { readonly Next: string }[];
  readonly Catch?: readonly { readonly Next: string }[];
}

export interface AslDefinitionShape {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly kind: 'next' | 'catch';
}

const NODE_WIDTH = 178;
const NODE_HEIGHT = 34;
const COLUMN_GAP = 26;
const ROW_GAP = 44;
const MARGIN = 20;

function edgesOf(definition: AslDefinitionShape): Edge[] {
  const edges: Edge[] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    const targets = [state.Next, state.Default, ...(state.Choices ?? []).map((c) => c.Next)];
    for (const to of new Set(targets.filter((t): t is string => Boolean(t))))
      edges.push({ from: name, to, kind: 'next' });
    for (const to of new Set((state.Catch ?? []).map((c) => c.Next))) {
      if (!targets.includes(to)) edges.push({ from: name, to, kind: 'catch' });
    }
  }
  return edges;
}

/**
 * Rows by the longest path from StartAt once the loops' back edges are set aside, so a state always
 * sits below every state that can lead to it (the notifications end up near the terminal states).
 * States nothing reaches go last.
 */
function layers(definition: AslDefinitionShape, edges: readonly Edge[]): string[][] {
  const backEdges = new Set<Edge>();
  const onStack = new Set<string>();
  const seen = new Set<string>();
  const visit = (name: string): void => {
    seen.add(name);
    onStack.add(name);
    for (const edge of edges.filter((e) => e.from === name)) {
      if (onStack.has(edge.to)) backEdges.add(edge);
      else if (!seen.has(edge.to)) visit(edge.to);
    }
    onStack.delete(name);
  };
  visit(definition.StartAt);
  const forward = edges.filter((edge) => !backEdges.has(edge) && seen.has(edge.from));
  const depth = new Map<string, number>([[definition.StartAt, 0]]);
  // Relax until stable: the forward graph is acyclic, so this ends within |states| rounds.
  for (let changed = true; changed;) {
    changed = false;
    for (const edge of forward) {
      const from = depth.get(edge.from);
      if (from !== undefined && from + 1 > (depth.get(edge.to) ?? -1)) {
        depth.set(edge.to, from + 1);
        changed = true;
      }
    }
  }
  const deepest = Math.max(...depth.values());
  const rows: string[][] = [];
  for (const name of Object.keys(definition.States)) {
    const row = depth.get(name) ?? deepest + 1;
    (rows[row] ??= []).push(name);
  }
  return rows.filter((row) => row.length > 0);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

type PathStatus = 'succeeded' | 'failed' | 'waited' | 'unvisited';

/**
 * How the run met one visit of a state: a safety-net wake (no event yet, the poll checks ECS) is
 * progress, drawn as waiting; any other caught or failed state is a failure.
 */
function visitStatus(entry: StateEntry): Exclude<PathStatus, 'unvisited'> {
  if (isSafetyNetWake(entry)) return 'waited';
  return /FAIL|CAUGHT|TIMED_OUT|ABORT/i.test(entry.status) ? 'failed' : 'succeeded';
}

/** How this run met each state: the last visit decides the colour. */
function pathStatus(states: readonly StateEntry[]): Map<string, PathStatus> {
  const status = new Map<string, PathStatus>();
  for (const entry of states) status.set(entry.name, visitStatus(entry));
  return status;
}

function stateGraphSvg(definition: AslDefinitionShape, document: SimulationDocument): string {
  const edges = edgesOf(definition);
  const rows = layers(definition, edges);
  const visits = pathStatus(document.states);
  const widest = Math.max(...rows.map((row) => row.length));
  const width = MARGIN * 2 + widest * NODE_WIDTH + (widest - 1) * COLUMN_GAP;
  const height = MARGIN * 2 + rows.length * NODE_HEIGHT + (rows.length - 1) * ROW_GAP;
  const position = new Map<string, { x: number; y: number }>();
  rows.forEach((row, r) => {
    const rowWidth = row.length * NODE_WIDTH + (row.length - 1) * COLUMN_GAP;
    const left = (width - rowWidth) / 2;
    row.forEach((name, c) =>
      position.set(name, {
        x: left + c * (NODE_WIDTH + COLUMN_GAP),
        y: MARGIN + r * (NODE_HEIGHT + ROW_GAP),
      }),
    );
  });
  const taken = new Set<string>();
  for (let i = 1; i < document.states.length; i++) {
    taken.add(`${document.states[i - 1]!.name}→${document.states[i]!.name}`);
  }
  const lines = edges.map((edge) => {
    const from = position.get(edge.from);
    const to = position.get(edge.to);
    if (!from || !to) return '';
    const x1 = from.x + NODE_WIDTH / 2;
    const y1 = from.y + NODE_HEIGHT;
    const x2 = to.x + NODE_WIDTH / 2;
    const y2 = to.y;
    const bend = (y1 + y2) / 2;
    const onPath = taken.has(`${edge.from}→${edge.to}`);
    const cls = ['edge', edge.kind, onPath ? 'taken' : ''].filter(Boolean).join(' ');
    return `<path class="${cls}" d="M${x1},${y1} C${x1},${bend} ${x2},${bend} ${x2},${y2}" marker-end="url(#arrow)"/>`;
  });
  const nodes = Object.entries(definition.States).map(([name, state]) => {
    const { x, y } = position.get(name)!;
    const status = visits.get(name) ?? 'unvisited';
    return (
      `<g class="state ${status}" data-state="${escapeHtml(name)}">` +
      `<title>${escapeHtml(name)} (${escapeHtml(state.Type)})</title>` +
      `<rect x="${x}" y="${y}" width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="${state.Type === 'Choice' ? 17 : 6}"/>` +
      `<text x="${x + NODE_WIDTH / 2}" y="${y + NODE_HEIGHT / 2 + 4}">${escapeHtml(name)}</text></g>`
    );
  });
  return (
    `<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">' +
    '<path d="M0,0 L10,5 L0,10 z" fill="#8a94a6"/></marker></defs>' +
    lines.join('') +
    nodes.join('') +
    '</svg>'
  );
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `+${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function timelineHtml(document: SimulationDocument): string {
  const first = document.states[0];
  if (!first) return '<p>No state ran.</p>';
  const start = Date.parse(first.enteredAt);
  const total = Math.max(document.virtualSeconds, 1);
  const rows = document.states.map((entry) => {
    const begin = (Date.parse(entry.enteredAt) - start) / 1000;
    const end = (Date.parse(entry.leftAt) - start) / 1000;
    const left = (begin / total) * 100;
    const width = Math.max(((end - begin) / total) * 100, 0.4);
    const visit = visitStatus(entry);
    const decision = entry.decision.length
      ? `<tr class="decision" data-state="${escapeHtml(entry.name)}"><td></td><td colspan="4">` +
        entry.decision.map(escapeHtml).join('<br>') +
        '</td></tr>'
      : '';
    return (
      `<tr class="state-row"><td class="at">${clock(begin)}</td><td class="name">${escapeHtml(entry.name)}</td>` +
      `<td class="bar"><span class="${visit}" style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></span></td>` +
      `<td class="took">${Math.round(end - begin)} s</td>` +
      `<td class="status ${visit}">${escapeHtml(visit === 'waited' ? 'WAITED' : entry.status)}</td></tr>` +
      decision
    );
  });
  return `<table class="timeline"><tbody>${rows.join('')}</tbody></table>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1d2433;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.verdict{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600}
.verdict.SUCCEEDED{background:#d9f2e3;color:#17603a}.verdict.FAILED{background:#fde2e1;color:#9b1c1c}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:12px 0}dt{color:#5b6478}dd{margin:0;font-family:ui-monospace,monospace}
#graph{background:#fff;border:1px solid #e3e6ec;border-radius:8px;max-width:100%;height:auto}
.state rect{fill:#f1f3f6;stroke:#c5cad3}.state text{font-size:11px;text-anchor:middle;fill:#5b6478}
.state.succeeded rect{fill:#d9f2e3;stroke:#2f9e62}.state.succeeded text{fill:#17603a;font-weight:600}
.state.failed rect{fill:#fde2e1;stroke:#d64545}.state.failed text{fill:#9b1c1c;font-weight:600}
.state.waited rect{fill:#e3eefb;stroke:#2b6cb0}.state.waited text{fill:#1e4e8c;font-weight:600}
.edge{fill:none;stroke:#c5cad3;stroke-width:1}.edge.catch{stroke-dasharray:4 3}.edge.taken{stroke:#2b6cb0;stroke-width:2.5}
.timeline{border-collapse:collapse;width:100%}.timeline td{padding:3px 8px;white-space:nowrap}.timeline tr.state-row td{border-top:1px solid #eceef2}
.timeline .bar{position:relative;width:55%}.timeline .bar span{position:absolute;top:6px;height:10px;border-radius:3px}
.timeline .bar .succeeded{background:#2f9e62}.timeline .bar .failed{background:#d64545}.timeline .bar .waited{background:#8fb3e0}
.timeline tr.decision td{white-space:pre-wrap;color:#3b4458;font-size:12px;padding-top:0}
.status.failed{color:#9b1c1c}.status.waited{color:#1e4e8c}
.at,.took{font-family:ui-monospace,monospace;color:#5b6478}
pre{background:#fff;border:1px solid #e3e6ec;border-radius:8px;padding:10px;white-space:pre-wrap}
`;

/** Marks the page rendered only when the browser really laid out every state of the graph. */
const RENDER_CHECK = `
(function(){var g=document.querySelectorAll('#graph g.state');var ok=g.length>0;
for(var i=0;i<g.length;i++){var b=g[i].getBBox();if(!(b.width>0&&b.height>0)){ok=false;}}
document.body.setAttribute('data-rendered',ok?'true':'false');document.body.setAttribute('data-state-count',String(g.length));})();
`;

export function renderHtmlReport(document: SimulationDocument, definition: AslDefinitionShape): string {
  const notifications = document.notifications
    .map((n) => `<h3>${escapeHtml(n.subject)}</h3><pre>${escapeHtml(n.message)}</pre>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AFU-9 deployment: ${escapeHtml(document.scenario)}</title>
<style>${STYLE}</style></head>
<body>
<h1>AFU-9 deployment rehearsal: ${escapeHtml(document.scenario)}</h1>
<span class="verdict ${document.status}">${document.status} · ${escapeHtml(document.outcome)}</span>
<dl>
<dt>task definition</dt><dd class="revisions">${escapeHtml(taskDefinitionPath(document))}</dd>
<dt>task definition before</dt><dd>${escapeHtml(document.taskDefinitionBefore ?? '—')}</dd>
<dt>task definition after</dt><dd>${escapeHtml(document.taskDefinitionAfter ?? '—')}</dd>
<dt>rolled back</dt><dd>${document.rolledBack ? 'yes' : 'no'}</dd>
<dt>virtual time</dt><dd>${clock(document.virtualSeconds)} (${document.virtualSeconds} s)</dd>
</dl>
<h2>Path through the state machine</h2>
${stateGraphSvg(definition, document)}
<h2>Timeline</h2>
${timelineHtml(document)}
<h2>Notifications</h2>
${notifications || '<p>None sent.</p>'}
<script>${RENDER_CHECK}</script>
</body></html>
`;
}
