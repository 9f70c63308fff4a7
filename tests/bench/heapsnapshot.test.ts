import test from 'ava';
import { summarize } from '../../bench/lib/heapsnapshot.js';
import type { HeapSnapshot } from '../../bench/lib/heapsnapshot.js';

const NODE_TYPES = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'synthetic'];
const EDGE_TYPES = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'];

interface Node {
  type: string;
  name: string;
  size: number;
  edges: { type: string; to: number }[];
}

/** A snapshot file as v8 writes it, from a list of nodes (node 0 is the root). */
function snapshotOf(nodes: Node[]): HeapSnapshot {
  const strings: string[] = [];
  const string = (text: string) => (strings.includes(text) ? strings.indexOf(text) : strings.push(text) - 1);
  const nodeFields = ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'];
  return {
    snapshot: {
      meta: {
        node_fields: nodeFields,
        node_types: [NODE_TYPES, 'string', 'number', 'number', 'number', 'number', 'number'],
        edge_fields: ['type', 'name_or_index', 'to_node'],
        edge_types: [EDGE_TYPES, 'string_or_number', 'node'],
      },
    },
    nodes: nodes.flatMap((node, index) => [
      NODE_TYPES.indexOf(node.type),
      string(node.name),
      index * 2 + 1,
      node.size,
      node.edges.length,
      0,
      0,
    ]),
    edges: nodes.flatMap((node) =>
      node.edges.flatMap((edge) => [EDGE_TYPES.indexOf(edge.type), 0, edge.to * nodeFields.length]),
    ),
    strings,
  };
}

const object = (name: string, size: number, ...to: number[]): Node => ({
  type: 'object',
  name,
  size,
  edges: to.map((target) => ({ type: 'property', to: target })),
});

// 0 root → 1 Holder → 2 Item → 3 Item; 2 → 4 a string (5 Other points at it only weakly);
// 6 Shared is held by both 1 and 5, so only the root dominates it; 7 is reachable from nothing.
const heap = snapshotOf([
  {
    type: 'synthetic',
    name: '',
    size: 0,
    edges: [
      { type: 'element', to: 1 },
      { type: 'element', to: 5 },
    ],
  },
  object('Holder', 10, 2, 6),
  object('Item', 20, 3, 4),
  object('Item', 30),
  { type: 'string', name: 'text', size: 7, edges: [] },
  {
    ...object('Other', 5, 6),
    edges: [
      { type: 'weak', to: 4 },
      { type: 'property', to: 6 },
    ],
  },
  object('Shared', 100),
  object('Lost', 9),
]);

test('objects are summed by constructor; a nested instance is not counted twice in retained size', (t) => {
  const summary = summarize(heap);
  t.is(summary.nodeCount, 8);
  t.is(summary.reachableSize, 172);
  t.is(summary.unreachableSize, 9);
  t.deepEqual(
    summary.byConstructor.map((row) => [row.group, row.count, row.selfSize, row.retainedSize]),
    [
      ['Shared', 1, 100, 100],
      ['Holder', 1, 10, 67],
      ['Item', 2, 50, 57],
      ['(string)', 1, 7, 7],
      ['Other', 1, 5, 5],
      ['(synthetic)', 1, 0, 0],
    ],
  );
});

test('an object held by two others is retained by neither; a weak edge retains nothing', (t) => {
  const rows = summarize(heap).retainers.map((row) => [row.chain.join(' > '), row.retainedSize]);
  t.deepEqual(rows, [
    ['Shared', 100],
    ['Holder', 67],
    ['Holder > Item', 57],
    ['Holder > Item > Item', 30],
    ['Holder > Item > (string)', 7],
    ['Other', 5],
  ]);
});

test('within a constructor, only what its instances retain is summed', (t) => {
  const summary = summarize(heap, { within: 'Item' });
  t.deepEqual(
    summary.byConstructor
      .filter((row) => row.count > 0)
      .map((row) => [row.group, row.count, row.retainedSize]),
    [
      ['Item', 2, 57],
      ['(string)', 1, 7],
    ],
  );
  t.deepEqual(
    summary.retainers.map((row) => row.chain.at(-1)),
    ['Item', 'Item', '(string)'],
  );
});

test('an object holding nearly all its holder holds is listed as its holder', (t) => {
  const wrapped = summarize(
    snapshotOf([
      { type: 'synthetic', name: '', size: 0, edges: [{ type: 'element', to: 1 }] },
      object('Map', 1, 2),
      { type: 'array', name: '', size: 99, edges: [] },
    ]),
  );
  t.deepEqual(
    wrapped.retainers.map((row) => [row.chain.join(' > '), row.retainedSize]),
    [['Map', 100]],
  );
});
