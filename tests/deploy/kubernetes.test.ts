/**
 * deploy/kubernetes/ is checked by schema, not by eye: every document against
 * the Kubernetes OpenAPI schema of its kind (kubernetes-models' validators),
 * and the specs inside the ConfigMap with dm-remap's own validator.
 */
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { Namespace, ConfigMap } from 'kubernetes-models/v1';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { isError, validateText } from '../../reconciler/spec/index.js';
import packageJson from '../../package.json' with { type: 'json' };

const DIR = 'deploy/kubernetes';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [key: string]: unknown;
}

async function manifests(): Promise<{ file: string; doc: Manifest }[]> {
  const files = (await readdir(DIR)).filter((name) => name.endsWith('.yaml')).sort();
  const all: { file: string; doc: Manifest }[] = [];
  for (const file of files) {
    for (const document of parseAllDocuments(await readFile(`${DIR}/${file}`, 'utf8'))) {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]?.message}`);
      all.push({ file, doc: document.toJS() as Manifest });
    }
  }
  return all;
}

const VALIDATORS: Record<string, (doc: Manifest) => void> = {
  'v1/Namespace': (doc) => new Namespace(doc).validate(),
  'v1/ConfigMap': (doc) => new ConfigMap(doc).validate(),
  'apps/v1/DaemonSet': (doc) => new DaemonSet(doc).validate(),
};

test('every manifest is valid against the Kubernetes schema of its kind', async (t) => {
  const all = await manifests();
  t.true(all.length >= 3);
  for (const { file, doc } of all) {
    const validate = VALIDATORS[`${doc.apiVersion}/${doc.kind}`];
    if (!validate) {
      t.fail(`${file}: ${doc.apiVersion} ${doc.kind} has no validator here; add one`);
      continue;
    }
    t.notThrows(() => validate(doc), `${file}: ${doc.kind} ${doc.metadata.name}`);
  }
});

test('the specs in the ConfigMap are valid dm-remap specs', async (t) => {
  const configMaps = (await manifests()).filter(({ doc }) => doc.kind === 'ConfigMap');
  t.true(configMaps.length > 0);
  for (const { doc } of configMaps) {
    for (const [name, text] of Object.entries((doc.data ?? {}) as Record<string, string>)) {
      const result = validateText(name, text);
      t.deepEqual(result.diagnostics.filter(isError), [], name);
      t.true(result.documents.length > 0, name);
    }
  }
});

test('the DaemonSet runs the image of this version, mounting what the daemon needs', async (t) => {
  const daemonSet = (await manifests()).find(({ doc }) => doc.kind === 'DaemonSet')?.doc;
  const pod = new DaemonSet(daemonSet).spec?.template.spec;
  const container = pod?.containers[0];
  t.is(container?.image, `dm-remap:${packageJson.version}`);
  t.true(container?.securityContext?.privileged);
  const mounts = new Map(container?.volumeMounts?.map((mount) => [mount.mountPath, mount]));
  for (const path of ['/dev', '/run/udev', '/var/lib/dm-remap', '/run/dm-remap', '/etc/dm-remap.d']) {
    t.truthy(mounts.get(path), `${path} is mounted`);
  }
  t.true(mounts.get('/etc/dm-remap.d')?.readOnly);
});
