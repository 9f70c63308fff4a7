/**
 * What a V8 heap snapshot (`node --heapsnapshot-signal`, v8.writeHeapSnapshot)
 * holds: self size and retained size summed by constructor, and the objects
 * that retain the most with the chain of objects that keeps them, for
 * explaining a missed memory target. Usage:
 *   npx tsx bench/lib/heapsnapshot.ts FILE.heapsnapshot [--top N] [--within CONSTRUCTOR]
 *
 * Retained sizes come from the dominator tree (Cooper, Harvey and Kennedy's
 * iterative algorithm over a post-order numbering), built as DevTools builds
 * it: weak edges do not retain, and shortcut edges only from the root.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The parts of the snapshot file this reads (see v8's heap-snapshot-generator). */
export interface HeapSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** One object of the heap, as read from the flat arrays. */
interface HeapNode {
  type: string;
  name: string;
  selfSize: number;
}

export interface ConstructorRow {
  /** The constructor for objects, `(string)`, `(closure)`, `(array)`... for the others. */
  group: string;
  count: number;
  selfSize: number;
  /** What freeing every instance would free: retained sizes of instances not held by another instance. */
  retainedSize: number;
}

export interface RetainerRow {
  /** The object and, outermost first, the objects that dominate it: `Controller > Map > SimulatedKernel`. */
  chain: string[];
  selfSize: number;
  retainedSize: number;
}

export interface HeapSummary {
  nodeCount: number;
  /** Self sizes of the objects reachable from the root (what heapUsed counts, about). */
  reachableSize: number;
  unreachableSize: number;
  byConstructor: ConstructorRow[];
  byType: { type: string; count: number; selfSize: number }[];
  /** Every object with its retained size, largest first (synthetic roots left out). */
  retainers: RetainerRow[];
}

export interface SummaryOptions {
  /** How many retainers to list (every object is summed either way). */
  top?: number;
  /** Sum only what instances of this group retain (`SimulatedKernel`): what such an object is made of. */
  within?: string;
}

export function summarize(snapshot: HeapSnapshot, options: SummaryOptions = {}): HeapSummary {
  const graph = readGraph(snapshot);
  const { order, postOrderOf } = postOrder(graph);
  const dominator = dominators(graph, order, postOrderOf);
  const retained = retainedSizes(graph, order, dominator);
  const counted =
    options.within === undefined
      ? order.map((_, index) => index)
      : heldBy(graph, order, dominator, options.within);
  const reachableSize = order.reduce((sum, node) => sum + graph.selfSize[node]!, 0);
  return {
    nodeCount: graph.count,
    reachableSize,
    unreachableSize: graph.selfSize.reduce((sum, size) => sum + size, 0) - reachableSize,
    byConstructor: constructorRows(graph, order, dominator, retained, new Set(counted)),
    byType: typeRows(graph, order, counted),
    retainers: retainerRows(graph, order, dominator, retained, counted, options.top ?? 25),
  };
}

/** Post-order numbers of the instances of `group` and of everything they dominate. */
function heldBy(graph: Graph, order: number[], dominator: Int32Array, group: string): number[] {
  const root = order.length - 1;
  const inside = new Uint8Array(order.length);
  // Dominators come later in post-order: walking down from the root, a node is inside when its dominator is.
  for (let index = root - 1; index >= 0; index -= 1) {
    inside[index] = graph.groupOf[order[index]!] === group || inside[dominator[index]!] ? 1 : 0;
  }
  return order.flatMap((_, index) => (inside[index] ? [index] : []));
}

interface Graph {
  count: number;
  node(index: number): HeapNode;
  selfSize: number[];
  /** The group (constructor or kind) each node is counted under. */
  groupOf: string[];
  /** Edges of node i are targets[firstEdge[i] .. firstEdge[i + 1]), with their types. */
  firstEdge: Int32Array;
  targets: Int32Array;
  edgeTypes: string[];
  edgeType: Uint8Array;
}

const ROOT = 0;
/** A dominated object holding at least this share of what its dominator holds is listed as its dominator. */
const WRAPPER_SHARE = 0.95;

function readGraph(snapshot: HeapSnapshot): Graph {
  const { meta } = snapshot.snapshot;
  const nodeWidth = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const typeField = meta.node_fields.indexOf('type');
  const nameField = meta.node_fields.indexOf('name');
  const sizeField = meta.node_fields.indexOf('self_size');
  const edgeCountField = meta.node_fields.indexOf('edge_count');
  const edgeTypeField = meta.edge_fields.indexOf('type');
  const toNodeField = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const count = snapshot.nodes.length / nodeWidth;
  const firstEdge = new Int32Array(count + 1);
  const targets = new Int32Array(snapshot.edges.length / edgeWidth);
  const edgeType = new Uint8Array(targets.length);
  const selfSize: number[] = [];
  const groupOf: string[] = [];
  const nodes: HeapNode[] = [];
  let edge = 0;
  for (let index = 0; index < count; index += 1) {
    const at = index * nodeWidth;
    const node = {
      type: nodeTypes[snapshot.nodes[at + typeField]!] ?? 'unknown',
      name: snapshot.strings[snapshot.nodes[at + nameField]!] ?? '',
      selfSize: snapshot.nodes[at + sizeField]!,
    };
    nodes.push(node);
    selfSize.push(node.selfSize);
    groupOf.push(groupName(node));
    firstEdge[index] = edge;
    const edges = snapshot.nodes[at + edgeCountField]!;
    for (let next = edge + edges; edge < next; edge += 1) {
      // to_node is an offset into the nodes array, not a node number.
      targets[edge] = snapshot.edges[edge * edgeWidth + toNodeField]! / nodeWidth;
      edgeType[edge] = snapshot.edges[edge * edgeWidth + edgeTypeField]!;
    }
  }
  firstEdge[count] = edge;
  return {
    count,
    node: (index) => nodes[index]!,
    selfSize,
    groupOf,
    firstEdge,
    targets,
    edgeTypes,
    edgeType,
  };
}

/** How objects are grouped, as DevTools' summary groups them. */
function groupName(node: HeapNode): string {
  switch (node.type) {
    case 'object':
    case 'native':
      return node.name;
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    default:
      return `(${node.type})`;
  }
}

/** An edge that keeps its target alive: not weak, and a shortcut only from the root. */
function retains(graph: Graph, from: number, edge: number): boolean {
  const type = graph.edgeTypes[graph.edgeType[edge]!];
  return type !== 'weak' && (type !== 'shortcut' || from === ROOT);
}

/** The nodes reachable from the root in post-order (the root last), and each node's place there (-1: unreachable). */
function postOrder(graph: Graph): { order: number[]; postOrderOf: Int32Array } {
  const postOrderOf = new Int32Array(graph.count).fill(-1);
  const visited = new Uint8Array(graph.count);
  const order: number[] = [];
  const stack = [ROOT];
  const nextEdge = [graph.firstEdge[ROOT]!];
  visited[ROOT] = 1;
  while (stack.length > 0) {
    const node = stack[stack.length - 1]!;
    const edge = nextEdge[nextEdge.length - 1]!;
    if (edge < graph.firstEdge[node + 1]!) {
      nextEdge[nextEdge.length - 1] = edge + 1;
      const target = graph.targets[edge]!;
      if (!visited[target] && retains(graph, node, edge)) {
        visited[target] = 1;
        stack.push(target);
        nextEdge.push(graph.firstEdge[target]!);
      }
    } else {
      stack.pop();
      nextEdge.pop();
      postOrderOf[node] = order.length;
      order.push(node);
    }
  }
  return { order, postOrderOf };
}

/** The immediate dominator of each reachable node, by post-order number (the root dominates itself). */
function dominators(graph: Graph, order: number[], postOrderOf: Int32Array): Int32Array {
  const reachable = order.length;
  // Predecessors by post-order number, as a flat list per node.
  const predecessorCount = new Int32Array(reachable + 1);
  for (const node of order) {
    for (let edge = graph.firstEdge[node]!; edge < graph.firstEdge[node + 1]!; edge += 1) {
      const target = postOrderOf[graph.targets[edge]!]!;
      if (target >= 0 && retains(graph, node, edge)) predecessorCount[target + 1]! += 1;
    }
  }
  for (let index = 0; index < reachable; index += 1) predecessorCount[index + 1]! += predecessorCount[index]!;
  const predecessors = new Int32Array(predecessorCount[reachable]!);
  const filled = predecessorCount.slice(0, reachable);
  for (const node of order) {
    for (let edge = graph.firstEdge[node]!; edge < graph.firstEdge[node + 1]!; edge += 1) {
      const target = postOrderOf[graph.targets[edge]!]!;
      if (target >= 0 && retains(graph, node, edge)) predecessors[filled[target]!++] = postOrderOf[node]!;
    }
  }
  const root = reachable - 1;
  const dominator = new Int32Array(reachable).fill(-1);
  dominator[root] = root;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (a < b) a = dominator[a]!;
      while (b < a) b = dominator[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let node = root - 1; node >= 0; node -= 1) {
      let candidate = -1;
      for (let at = predecessorCount[node]!; at < predecessorCount[node + 1]!; at += 1) {
        const predecessor = predecessors[at]!;
        if (dominator[predecessor] === -1) continue;
        candidate = candidate === -1 ? predecessor : intersect(candidate, predecessor);
      }
      if (candidate !== -1 && dominator[node] !== candidate) {
        dominator[node] = candidate;
        changed = true;
      }
    }
  }
  return dominator;
}

/** Retained size by post-order number: a node's own size plus that of every node it dominates. */
function retainedSizes(graph: Graph, order: number[], dominator: Int32Array): Float64Array {
  const retained = new Float64Array(order.length);
  for (let index = 0; index < order.length; index += 1) retained[index] = graph.selfSize[order[index]!]!;
  // A dominator comes after the nodes it dominates in post-order.
  for (let index = 0; index < order.length - 1; index += 1) retained[dominator[index]!]! += retained[index]!;
  return retained;
}

function constructorRows(
  graph: Graph,
  order: number[],
  dominator: Int32Array,
  retained: Float64Array,
  counted: ReadonlySet<number>,
): ConstructorRow[] {
  const rows = new Map<string, ConstructorRow>();
  const row = (group: string) => {
    let found = rows.get(group);
    if (!found) rows.set(group, (found = { group, count: 0, selfSize: 0, retainedSize: 0 }));
    return found;
  };
  for (const index of counted) {
    const entry = row(graph.groupOf[order[index]!]!);
    entry.count += 1;
    entry.selfSize += graph.selfSize[order[index]!]!;
  }
  // An instance counts its retained size unless an instance of the same group dominates it
  // (a list's nodes are not counted once per node above them): a walk down the dominator
  // tree that knows, per group, how many instances are on the path from the root.
  const root = order.length - 1;
  const groupIds = new Map<string, number>();
  const groupOf = Int32Array.from(order, (node) => {
    const group = graph.groupOf[node]!;
    if (!groupIds.has(group)) groupIds.set(group, groupIds.size);
    return groupIds.get(group)!;
  });
  const groups = [...groupIds.keys()];
  const onPath = new Int32Array(groups.length);
  const children = dominatedBy(dominator);
  const stack: number[] = [root];
  const leaving = new Uint8Array(order.length);
  while (stack.length > 0) {
    const index = stack.pop()!;
    if (leaving[index]) {
      onPath[groupOf[index]!]! -= 1;
      continue;
    }
    if (index !== root && onPath[groupOf[index]!] === 0 && counted.has(index))
      row(groups[groupOf[index]!]!).retainedSize += retained[index]!;
    onPath[groupOf[index]!]! += 1;
    leaving[index] = 1;
    stack.push(index);
    for (let at = children.first[index]!; at < children.first[index + 1]!; at += 1)
      stack.push(children.list[at]!);
  }
  return [...rows.values()].sort((a, b) => b.retainedSize - a.retainedSize || b.selfSize - a.selfSize);
}

/** The dominator tree's children of each node, as a flat list per node. */
function dominatedBy(dominator: Int32Array): { first: Int32Array; list: Int32Array } {
  const root = dominator.length - 1;
  const first = new Int32Array(dominator.length + 1);
  for (let index = 0; index < root; index += 1) first[dominator[index]! + 1]! += 1;
  for (let index = 0; index < dominator.length; index += 1) first[index + 1]! += first[index]!;
  const list = new Int32Array(root);
  const filled = first.slice(0, dominator.length);
  for (let index = 0; index < root; index += 1) list[filled[dominator[index]!]!++] = index;
  return { first, list };
}

function typeRows(graph: Graph, order: number[], counted: number[]): HeapSummary['byType'] {
  const rows = new Map<string, { type: string; count: number; selfSize: number }>();
  for (const index of counted) {
    const node = order[index]!;
    const { type } = graph.node(node);
    const entry = rows.get(type) ?? { type, count: 0, selfSize: 0 };
    entry.count += 1;
    entry.selfSize += graph.selfSize[node]!;
    rows.set(type, entry);
  }
  return [...rows.values()].sort((a, b) => b.selfSize - a.selfSize);
}

/**
 * The objects retaining the most, each with the chain of named objects that
 * dominates it. An object that holds nearly all its dominator holds (a Map's
 * backing array) says nothing its dominator's row does not: it is left out.
 */
function retainerRows(
  graph: Graph,
  order: number[],
  dominator: Int32Array,
  retained: Float64Array,
  counted: number[],
  top: number,
): RetainerRow[] {
  const root = order.length - 1;
  const isWrapper = (index: number) =>
    dominator[index] !== root && retained[index]! >= WRAPPER_SHARE * retained[dominator[index]!]!;
  const candidates = counted.filter(
    (index) => index !== root && graph.node(order[index]!).type !== 'synthetic' && !isWrapper(index),
  );
  candidates.sort((a, b) => retained[b]! - retained[a]!);
  return candidates.slice(0, top).map((index) => {
    const chain: string[] = [];
    for (let at = index; at !== root; at = dominator[at]!) {
      const node = graph.node(order[at]!);
      if (node.type !== 'synthetic') chain.unshift(describe(node));
    }
    return { chain, selfSize: graph.selfSize[order[index]!]!, retainedSize: retained[index]! };
  });
}

function describe(node: HeapNode): string {
  if (node.type === 'object' || node.type === 'native') return node.name;
  if (node.type === 'closure') return `${node.name || '(anonymous)'}()`;
  if (node.type === 'string') return '(string)';
  return `(${node.type}${node.name ? ` ${node.name.slice(0, 40)}` : ''})`;
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(2).padStart(8)} MB`;

function formatSummary(summary: HeapSummary, top: number): string {
  const lines = [
    `${summary.nodeCount} objects; reachable ${megabytes(summary.reachableSize).trim()}, unreachable ${megabytes(summary.unreachableSize).trim()}`,
    '',
    'by constructor (retained, self, count):',
    ...summary.byConstructor
      .slice(0, top)
      .map(
        (row) =>
          `${megabytes(row.retainedSize)} ${megabytes(row.selfSize)} ${String(row.count).padStart(8)}  ${row.group}`,
      ),
    '',
    'by kind (self, count):',
    ...summary.byType.map(
      (row) => `${megabytes(row.selfSize)} ${String(row.count).padStart(8)}  ${row.type}`,
    ),
    '',
    'largest retainers (retained, self; the chain that holds them, outermost first):',
    ...summary.retainers.map(
      (row) => `${megabytes(row.retainedSize)} ${megabytes(row.selfSize)}  ${row.chain.join(' > ')}`,
    ),
  ];
  return lines.join('\n') + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string', default: '25' }, within: { type: 'string' } },
    allowPositionals: true,
  });
  const [file] = positionals;
  if (file === undefined) {
    process.stderr.write(
      'usage: tsx bench/lib/heapsnapshot.ts FILE.heapsnapshot [--top N] [--within CONSTRUCTOR]\n',
    );
    process.exit(64);
  }
  const snapshot = JSON.parse(fs.readFileSync(file, 'utf8')) as HeapSnapshot;
  const top = Number(values.top);
  process.stdout.write(
    formatSummary(summarize(snapshot, { top, ...(values.within ? { within: values.within } : {}) }), top),
  );
}
