/**
 * Every example's Kubernetes manifests, without a cluster: each `examples/<name>/deploy/overlays/<o>`
 * is rendered (see ./kustomize.ts for the subset rendered), every object is validated against the
 * Kubernetes OpenAPI schemas shipped by `kubernetes-models` (types, required fields, enums; Traefik's
 * Middleware against its CRD's shape), and each pod's `weft sidecar` container is checked against its
 * app: app id, app port, the ports and probes the sidecar serves, its components, and the
 * `<app-id>-dapr` Service other sidecars dial. New examples are picked up by discovery.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { renderKustomization } from './kustomize.js';
import type { K8sObject } from './kustomize.js';

const EXAMPLES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Every `examples/<name>/deploy/overlays/<overlay>` with a kustomization. */
function discoverOverlays(): { example: string; overlay: string; dir: string }[] {
  const found: { example: string; overlay: string; dir: string }[] = [];
  for (const example of fs.readdirSync(EXAMPLES_DIR).sort()) {
    const overlays = path.join(EXAMPLES_DIR, example, 'deploy', 'overlays');
    if (!fs.existsSync(overlays)) continue;
    for (const overlay of fs.readdirSync(overlays).sort()) {
      const dir = path.join(overlays, overlay);
      if (fs.existsSync(path.join(dir, 'kustomization.yaml'))) found.push({ example, overlay, dir });
    }
  }
  return found;
}

type Validator = (object: K8sObject) => void;

/** Traefik's Middleware (traefik.io/v1alpha1), as far as the examples use it: stripPrefix. */
const TraefikMiddleware = z.object({
  apiVersion: z.literal('traefik.io/v1alpha1'),
  kind: z.literal('Middleware'),
  metadata: z.object({ name: z.string().min(1), namespace: z.string().optional() }).loose(),
  spec: z.strictObject({ stripPrefix: z.strictObject({ prefixes: z.array(z.string().startsWith('/')).min(1), forceSlash: z.boolean().optional() }) }),
});

/** The validator of an object's apiVersion/kind, from `kubernetes-models` (core kinds) or a CRD shape. */
async function validatorFor(object: K8sObject): Promise<Validator> {
  if (object.apiVersion === 'traefik.io/v1alpha1' && object.kind === 'Middleware') return (o) => void TraefikMiddleware.parse(o);
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const modulePath = `kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(modulePath)) as Record<string, unknown>;
  } catch {
    throw new Error(`no schema for ${object.apiVersion} ${object.kind} (${object.metadata.name}): add one to the manifest test`);
  }
  const Model = mod[object.kind] as (new (data: unknown) => { validate(): void }) | undefined;
  if (!Model) throw new Error(`kubernetes-models has no ${object.kind} in ${modulePath}`);
  return (o) => new Model(o).validate();
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: number | string } };
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
  startupProbe?: { httpGet?: { path: string; port: number | string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: { containers: Container[]; volumes?: { name: string; configMap?: { name: string } }[] };
}

/** `--flag value` / `--flag=value` pairs of a daprd-style argument list (boolean flags map to 'true'). */
function flags(args: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('-')) continue;
    const name = arg.replace(/^--?/, '');
    if (name.includes('=')) {
      const [k, ...v] = name.split('=');
      out.set(k ?? '', v.join('='));
    } else if (i + 1 < args.length && !(args[i + 1] ?? '').startsWith('-')) {
      out.set(name, args[++i] ?? '');
    } else {
      out.set(name, 'true');
    }
  }
  return out;
}

function isSidecar(c: Container): boolean {
  return [...(c.command ?? []), ...(c.args ?? [])].includes('sidecar') && /weft/.test(c.image);
}

/** The port number a probe or Service names (by number or by a container port's name). */
function portNumber(port: number | string, containers: readonly Container[]): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  for (const c of containers) for (const p of c.ports ?? []) if (p.name === port) return p.containerPort;
  return undefined;
}

const overlays = discoverOverlays();

describe('Kubernetes manifests', () => {
  it('finds the overlays of every example with a deploy folder (commerce-events and shop: dev and production)', () => {
    const names = overlays.map((o) => `${o.example}/${o.overlay}`);
    expect(names).toEqual(expect.arrayContaining(['commerce-events/dev', 'commerce-events/production', 'shop/dev', 'shop/production']));
    for (const example of fs.readdirSync(EXAMPLES_DIR)) {
      if (fs.existsSync(path.join(EXAMPLES_DIR, example, 'deploy', 'base'))) {
        expect(names.some((n) => n.startsWith(`${example}/`)), `${example}/deploy has a base but no overlay`).toBe(true);
      }
    }
  });

  describe.each(overlays)('$example/deploy/overlays/$overlay', ({ dir }) => {
    // Rendered while collecting; a failure is reported by the first test, not as a broken file.
    let objects: K8sObject[] = [];
    let renderError: Error | undefined;
    try {
      objects = renderKustomization(dir);
    } catch (err) {
      renderError = err as Error;
    }
    const find = (kind: string, name: string, namespace?: string) =>
      objects.find((o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace));
    const workloads = objects.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));
    const withSidecar = workloads.filter((w) => ((w['spec'] as { template: PodTemplate }).template.spec.containers ?? []).some(isSidecar));

    it('renders objects, each valid against its Kubernetes schema', async () => {
      if (renderError) throw renderError;
      expect(objects.length).toBeGreaterThan(0);
      const failures: string[] = [];
      for (const object of objects) {
        try {
          (await validatorFor(object))(object);
        } catch (err) {
          failures.push(`${object.kind}/${object.metadata.name}: ${(err as Error).message}`);
        }
      }
      expect(failures).toEqual([]);
    });

    it('has at least one pod with a weft sidecar, and every container sets resource requests and limits', () => {
      expect(withSidecar.length).toBeGreaterThan(0);
      for (const w of workloads) {
        for (const c of (w['spec'] as { template: PodTemplate }).template.spec.containers) {
          expect(c.resources?.requests?.['cpu'], `${w.metadata.name}/${c.name} cpu request`).toBeTruthy();
          expect(c.resources?.requests?.['memory'], `${w.metadata.name}/${c.name} memory request`).toBeTruthy();
          expect(c.resources?.limits?.['cpu'], `${w.metadata.name}/${c.name} cpu limit`).toBeTruthy();
          expect(c.resources?.limits?.['memory'], `${w.metadata.name}/${c.name} memory limit`).toBeTruthy();
        }
      }
    });

    it('gives each sidecar flags and ports that agree with its app container', () => {
      for (const w of withSidecar) {
        const where = `${w.kind}/${w.metadata.name}`;
        const template = (w['spec'] as { template: PodTemplate }).template;
        const containers = template.spec.containers;
        const sidecars = containers.filter(isSidecar);
        expect(sidecars, `${where}: one weft sidecar`).toHaveLength(1);
        const sidecar = sidecars[0] as Container;
        const apps = containers.filter((c) => !isSidecar(c));
        expect(apps.length, `${where}: an app container beside the sidecar`).toBeGreaterThan(0);
        const f = flags([...(sidecar.command ?? []), ...(sidecar.args ?? [])]);

        expect(f.get('mode'), `${where}: --mode kubernetes`).toBe('kubernetes');
        const appId = f.get('app-id');
        expect(appId, `${where}: --app-id`).toBeTruthy();
        expect(template.metadata.labels['app'], `${where}: pod label app = app id`).toBe(appId);

        // The app port is a port some app container declares, and what the app is told to listen on.
        const appPort = Number(f.get('app-port'));
        const appPorts = apps.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort));
        expect(appPorts, `${where}: --app-port ${appPort} is an app container port`).toContain(appPort);
        for (const app of apps) {
          const env = new Map((app.env ?? []).map((e) => [e.name, e.value]));
          if (env.has('APP_PORT')) expect(Number(env.get('APP_PORT')), `${where}/${app.name}: APP_PORT`).toBe(appPort);
          if (env.has('APP_ID')) expect(env.get('APP_ID'), `${where}/${app.name}: APP_ID`).toBe(appId);
          const httpPort = Number(f.get('dapr-http-port') ?? 3500);
          const grpcPort = Number(f.get('dapr-grpc-port') ?? 50001);
          if (env.has('DAPR_HTTP_PORT')) expect(Number(env.get('DAPR_HTTP_PORT')), `${where}/${app.name}: DAPR_HTTP_PORT`).toBe(httpPort);
          if (env.has('DAPR_GRPC_PORT')) expect(Number(env.get('DAPR_GRPC_PORT')), `${where}/${app.name}: DAPR_GRPC_PORT`).toBe(grpcPort);
        }

        // The sidecar declares the ports it serves in Kubernetes mode.
        const internalPort = Number(f.get('dapr-internal-grpc-port') ?? 50002);
        const publicPort = Number(f.get('dapr-public-port') ?? 3501);
        const declared = (sidecar.ports ?? []).map((p) => p.containerPort);
        expect(declared, `${where}: sidecar declares the internal port`).toContain(internalPort);
        expect(declared, `${where}: sidecar declares the public port`).toContain(publicPort);
        expect(declared.some((p) => appPorts.includes(p)), `${where}: sidecar and app ports do not collide`).toBe(false);

        // Probes on the sidecar's health endpoints, on the public port (the APIs listen on loopback only).
        for (const probe of [sidecar.livenessProbe, sidecar.readinessProbe]) {
          expect(probe?.httpGet, `${where}: sidecar probe`).toBeTruthy();
          expect(probe?.httpGet?.path).toMatch(/^\/v1\.0\/healthz(\/outbound)?$/);
          expect(portNumber(probe?.httpGet?.port ?? '', containers), `${where}: probe on the public port`).toBe(publicPort);
        }

        // Components: every --resources-path is a ConfigMap mount holding Dapr components scoped to this app,
        // whose envRef variables the sidecar has.
        const sidecarEnv = new Set((sidecar.env ?? []).map((e) => e.name));
        expect(sidecarEnv.has('NAMESPACE'), `${where}: NAMESPACE from the pod`).toBe(true);
        for (const resourcesPath of [f.get('resources-path'), f.get('components-path')].filter((p): p is string => !!p)) {
          const mount = (sidecar.volumeMounts ?? []).find((m) => m.mountPath === resourcesPath);
          expect(mount, `${where}: ${resourcesPath} is mounted`).toBeTruthy();
          const volume = (template.spec.volumes ?? []).find((v) => v.name === mount?.name);
          const configMap = volume?.configMap ? find('ConfigMap', volume.configMap.name, w.metadata.namespace) : undefined;
          expect(configMap, `${where}: ConfigMap for ${resourcesPath}`).toBeTruthy();
          for (const [key, text] of Object.entries((configMap?.['data'] as Record<string, string> | undefined) ?? {})) {
            for (const doc of parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>)) {
              expect(doc['apiVersion'], `${key}`).toBe('dapr.io/v1alpha1');
              const scopes = (doc['scopes'] as string[] | undefined) ?? [];
              if (scopes.length > 0) expect(scopes, `${key}: scoped to ${appId}`).toContain(appId);
              const metadata = ((doc['spec'] as { metadata?: { envRef?: string }[] } | undefined)?.metadata ?? []);
              for (const m of metadata) if (m.envRef) expect(sidecarEnv.has(m.envRef), `${key}: sidecar env ${m.envRef}`).toBe(true);
            }
          }
        }

        // The Service Dapr's operator would create: headless, selecting these pods, the internal port.
        const daprService = find('Service', `${appId}-dapr`, w.metadata.namespace);
        expect(daprService, `${where}: Service ${appId}-dapr`).toBeTruthy();
        const svcSpec = daprService?.['spec'] as { clusterIP?: string; selector: Record<string, string>; ports: { port: number; targetPort: number | string }[] };
        expect(svcSpec.clusterIP).toBe('None');
        for (const [k, v] of Object.entries(svcSpec.selector)) expect(template.metadata.labels[k], `${appId}-dapr selects the pod`).toBe(v);
        expect(svcSpec.ports.some((p) => p.port === internalPort && portNumber(p.targetPort, containers) === internalPort), `${appId}-dapr exposes ${internalPort}`).toBe(true);
      }
    });

    it('points every secretKeyRef, Service and Ingress backend at something that exists', () => {
      const rendered = new Set(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`));
      const secretsShipped = objects.some((o) => o.kind === 'Secret');
      for (const w of workloads) {
        const template = (w['spec'] as { template: PodTemplate }).template;
        for (const c of template.spec.containers) {
          for (const e of c.env ?? []) {
            const ref = e.valueFrom?.secretKeyRef;
            // Overlays that ship Secrets must ship all of them; others create them out of band (README).
            if (ref && secretsShipped) {
              const secret = find('Secret', ref.name, w.metadata.namespace);
              expect(secret, `${w.metadata.name}/${c.name}: Secret ${ref.name}`).toBeTruthy();
              const data = { ...((secret?.['stringData'] as object | undefined) ?? {}), ...((secret?.['data'] as object | undefined) ?? {}) };
              expect(Object.keys(data), `Secret ${ref.name} has ${ref.key}`).toContain(ref.key);
            }
          }
        }
      }
      for (const svc of objects.filter((o) => o.kind === 'Service')) {
        const selector = (svc['spec'] as { selector?: Record<string, string> }).selector ?? {};
        const selected = workloads.filter((w) => {
          const labels = (w['spec'] as { template: PodTemplate }).template.metadata.labels;
          return w.metadata.namespace === svc.metadata.namespace && Object.entries(selector).every(([k, v]) => labels[k] === v);
        });
        expect(selected.length, `Service ${svc.metadata.name} selects a workload`).toBeGreaterThan(0);
        for (const p of (svc['spec'] as { ports: { targetPort?: number | string; port: number }[] }).ports) {
          const containers = selected.flatMap((w) => (w['spec'] as { template: PodTemplate }).template.spec.containers);
          expect(portNumber(p.targetPort ?? p.port, containers), `Service ${svc.metadata.name} port ${p.port} targets a container port`).toBeDefined();
        }
      }
      for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
        type Rule = { http: { paths: { path: string; backend: { service: { name: string; port: { name?: string; number?: number } } } }[] } };
        for (const rule of (ingress['spec'] as { rules: Rule[] }).rules) {
          for (const p of rule.http.paths) {
            expect(rendered.has(`Service/${ingress.metadata.namespace ?? ''}/${p.backend.service.name}`), `Ingress ${ingress.metadata.name} → ${p.backend.service.name}`).toBe(true);
          }
        }
        // Traefik middlewares are named <namespace>-<name>@kubernetescrd and must exist, stripping this path.
        const annotation = (ingress.metadata as { annotations?: Record<string, string> }).annotations?.['traefik.ingress.kubernetes.io/router.middlewares'];
        for (const ref of annotation?.split(',').map((s) => s.trim()) ?? []) {
          const match = /^(.+?)-(.+)@kubernetescrd$/.exec(ref);
          const ns = ingress.metadata.namespace ?? 'default';
          expect(match?.[1], `${ref}: namespace prefix`).toBe(ns);
          const middleware = find('Middleware', match?.[2] ?? '', ns);
          expect(middleware, `Middleware ${ref}`).toBeTruthy();
          const prefixes = (middleware?.['spec'] as { stripPrefix?: { prefixes: string[] } }).stripPrefix?.prefixes ?? [];
          const paths = (ingress['spec'] as { rules: Rule[] }).rules.flatMap((r) => r.http.paths.map((p) => p.path));
          for (const p of paths) expect(prefixes, `Middleware ${ref} strips ${p}`).toContain(p);
        }
      }
    });
  });
});

describe('the shop manifests and the shipped components', () => {
  it('embed exactly the production component files in the sidecars\' ConfigMaps', () => {
    const shopDir = path.join(EXAMPLES_DIR, 'shop');
    const objects = renderKustomization(path.join(shopDir, 'deploy/overlays/production'));
    for (const service of ['customers', 'products', 'reviews', 'orders']) {
      const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === `${service}-components`);
      const shipped = fs.readFileSync(path.join(shopDir, 'components/production', `${service}-store.yaml`), 'utf8');
      expect((configMap?.['data'] as Record<string, string>)[`${service}-store.yaml`]).toBe(shipped);
    }
  });

  it('run two replicas of each service in production and one in dev, with the overlay\'s images', () => {
    const shopDir = path.join(EXAMPLES_DIR, 'shop');
    const image = (objects: K8sObject[], name: string, container: string) =>
      ((objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)?.['spec'] as { template: PodTemplate }).template.spec.containers.find((c) => c.name === container))?.image;
    const prod = renderKustomization(path.join(shopDir, 'deploy/overlays/production'));
    const dev = renderKustomization(path.join(shopDir, 'deploy/overlays/dev'));
    const replicas = (objects: K8sObject[], name: string) => (objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)?.['spec'] as { replicas: number }).replicas;
    expect(replicas(prod, 'orders')).toBe(2);
    expect(replicas(dev, 'orders')).toBe(1);
    expect(image(prod, 'orders', 'weft-sidecar')).toBe('registry.example.com/weft/sidecar:0.1.0');
    expect(image(dev, 'orders', 'app')).toBe('shop-orders:dev');
    expect(dev.every((o) => o.kind === 'Namespace' || o.metadata.namespace === 'shop')).toBe(true);
  });
});
