/**
 * deploy/monitoring/ against the exporter: every series the Grafana dashboard
 * and the alerting rules query is one dm-remap prints (so a renamed metric
 * cannot leave a blank panel or an alert that never fires), and the
 * dashboard is well-formed. promtool checks and unit-tests the rules
 * themselves (scripts/monitoring-check.sh).
 */
import test from 'ava';
import fs from 'node:fs/promises';
import { parse } from 'yaml';
import { METRIC_NAMES } from '../../reconciler/metrics/metrics.js';

const HISTOGRAM_SUFFIXES = ['_bucket', '_count', '_sum'];

/** The dm_remap_* series an expression names, with histogram suffixes taken off. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\bdm_remap_[a-z_]+\b/g)].map(([name]) => {
    const suffix = HISTOGRAM_SUFFIXES.find(
      (candidate) =>
        name.endsWith(candidate) &&
        (METRIC_NAMES as readonly string[]).includes(name.slice(0, -candidate.length)),
    );
    return suffix ? name.slice(0, -suffix.length) : name;
  });
}

interface Panel {
  id: number;
  title: string;
  type: string;
  targets?: { expr: string; refId: string }[];
}

async function dashboard(): Promise<{
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query?: unknown; definition?: string }[] };
}> {
  return JSON.parse(await fs.readFile('deploy/monitoring/grafana-dashboard.json', 'utf8')) as never;
}

test('every series the dashboard queries is one the exporter prints', async (t) => {
  const { panels, templating } = await dashboard();
  const exprs = [
    ...panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)),
    ...templating.list.flatMap((variable) => (variable.definition ? [variable.definition] : [])),
  ];
  t.true(exprs.length >= 10);
  const unknown = exprs
    .flatMap(metricsIn)
    .filter((name) => !(METRIC_NAMES as readonly string[]).includes(name));
  t.deepEqual(unknown, []);
  t.true(
    exprs.every((expr) => metricsIn(expr).length > 0),
    'every query reads a dm-remap series',
  );
});

test('the dashboard has a uid, unique panel ids, and refIds unique within each panel', async (t) => {
  const { uid, panels } = await dashboard();
  t.is(uid, 'dm-remap');
  t.is(new Set(panels.map((panel) => panel.id)).size, panels.length);
  for (const panel of panels) {
    const refIds = (panel.targets ?? []).map((target) => target.refId);
    t.is(new Set(refIds).size, refIds.length, panel.title);
    t.true(refIds.length > 0, panel.title);
  }
});

test('every series the alerting rules query is one the exporter prints, and every alert the issue asks for is there', async (t) => {
  const rules = parse(await fs.readFile('deploy/monitoring/dm-remap.rules.yml', 'utf8')) as {
    groups: { rules: { alert: string; expr: string; labels: { severity: string } }[] }[];
  };
  const all = rules.groups.flatMap((group) => group.rules);
  const unknown = all
    .flatMap((rule) => metricsIn(rule.expr))
    .filter((name) => !(METRIC_NAMES as readonly string[]).includes(name));
  t.deepEqual(unknown, []);
  const names = all.map((rule) => rule.alert);
  for (const wanted of [
    'DmRemapSpareUsageHigh',
    'DmRemapSpareFull',
    'DmRemapPendingBlocks',
    'DmRemapMetadataError',
    'DmRemapRemapRateHigh',
    'DmRemapDaemonDown',
  ]) {
    t.true(names.includes(wanted), wanted);
  }
  t.true(all.every((rule) => ['warning', 'critical'].includes(rule.labels.severity)));
});
