/**
 * The live graph of the system: apps and topics as nodes; which app invokes which, publishes to and
 * receives from which topic as edges, each labelled with its rate, error rate and (invocations) p99
 * over the last minute. Drawn from the sidecars' own metrics; redrawn on every live tick.
 */
import { useQuery } from '@tanstack/react-query';
import type { GraphEdge, GraphNode, GraphResponse } from '../../shared/api.js';
import { getJson } from '../../api/client.js';
import { Empty, ErrorBox, Loading } from '../../ui/ui.js';

const W = 900;
const H = 420;

/** Places apps on the left and right halves of an ellipse and topics in the middle column. */
export function layout(nodes: readonly GraphNode[]): Map<string, { x: number; y: number }> {
  const at = new Map<string, { x: number; y: number }>();
  const apps = nodes.filter((n) => n.kind === 'app');
  const topics = nodes.filter((n) => n.kind === 'topic');
  apps.forEach((n, i) => {
    const left = i % 2 === 0;
    const row = Math.floor(i / 2);
    const rows = Math.ceil(apps.length / 2);
    at.set(n.id, { x: left ? 130 : W - 130, y: ((row + 1) * H) / (rows + 1) });
  });
  topics.forEach((n, i) => at.set(n.id, { x: W / 2, y: ((i + 1) * H) / (topics.length + 1) }));
  return at;
}

function edgeLabel(e: GraphEdge): string {
  const parts = [`${e.rate.toFixed(2)}/s`];
  if (e.rate > 0) parts.push(`${((e.errorRate / e.rate) * 100).toFixed(0)}% err`);
  if (e.p99Ms !== null) parts.push(`p99 ${e.p99Ms.toFixed(0)} ms`);
  return parts.join(' · ');
}

export function SystemGraph() {
  const graph = useQuery({ queryKey: ['graph'], queryFn: () => getJson<GraphResponse>('/api/graph'), meta: { live: true }, placeholderData: (p) => p });
  if (graph.isPending) return <Loading what="the graph" />;
  if (graph.error) return <ErrorBox error={graph.error} what="the graph" />;
  const { nodes, edges } = graph.data;
  if (nodes.length === 0) return <Empty>No apps.</Empty>;
  const at = layout(nodes);
  return (
    <figure className="graph">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label="System graph: apps, topics and the traffic between them">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" className="graph-arrow" />
          </marker>
        </defs>
        {edges.map((e, i) => {
          const a = at.get(e.from);
          const b = at.get(e.to);
          if (!a || !b) return null;
          // Stop short of the node so the arrow head stays visible.
          const dx = b.x - a.x;
          const dy = b.y - a.y;
          const len = Math.max(1, Math.hypot(dx, dy));
          // Publish and deliver between the same app and topic run both ways: draw them apart.
          const shift = e.kind === 'deliver' ? 12 : e.kind === 'publish' ? -12 : 0;
          const nx = (-dy / len) * shift;
          const ny = (dx / len) * shift;
          const start = { x: a.x + nx, y: a.y + ny };
          const end = { x: b.x - (dx / len) * 60 + nx, y: b.y - (dy / len) * 22 + ny };
          const mid = { x: (start.x + end.x) / 2 + nx, y: (start.y + end.y) / 2 + ny + (shift > 0 ? 10 : -4) };
          return (
            <g key={i} className={`graph-edge ${e.kind} ${e.errorRate > 0 ? 'failing' : ''}`} data-edge={`${e.from}->${e.to}`}>
              <line x1={start.x} y1={start.y} x2={end.x} y2={end.y} markerEnd="url(#arrow)" />
              <text x={mid.x} y={mid.y} textAnchor="middle">
                {e.kind} {edgeLabel(e)}
              </text>
            </g>
          );
        })}
        {nodes.map((n) => {
          const p = at.get(n.id)!;
          return (
            <g key={n.id} className={`graph-node ${n.kind} ${n.healthy === false ? 'down' : ''}`} data-node={n.id}>
              {n.kind === 'app' ? <rect x={p.x - 60} y={p.y - 18} width={120} height={36} rx={8} /> : <ellipse cx={p.x} cy={p.y} rx={70} ry={18} />}
              <text x={p.x} y={p.y + 4} textAnchor="middle">
                {n.label}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="muted small">
        Rates over the last {graph.data.windowSeconds} s, from each sidecar&apos;s metrics (local sidecars only). An edge appears once traffic flows.
      </figcaption>
    </figure>
  );
}
