/**
 * OpenAPI 3.1 document generated from the registered routes' schemas (collected with the onRoute hook) and
 * served at `GET /openapi.json`. JSON Schema 2020-12 is OpenAPI 3.1's schema dialect, so route schemas go in
 * as they are; shared schemas added with `addSchema({ $id })` become `components.schemas` and `$ref`s to them
 * are rewritten. Error responses are the Problem schema (`application/problem+json`).
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { PROBLEM_CONTENT_TYPE, problemSchema } from '../errors.ts';
import { platformPlugin } from './plugin.ts';

declare module 'fastify' {
  interface FastifySchema {
    /** OpenAPI operation fields (ignored by validation). */
    summary?: string;
    description?: string;
    tags?: readonly string[];
    operationId?: string;
  }
}

type Json = Record<string, unknown>;

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
}

interface CollectedRoute {
  readonly method: string;
  readonly url: string;
  readonly schema: Json;
  readonly idempotent: boolean;
}

/** Collects routes and shared schemas; `document()` renders the OpenAPI 3.1 document. */
export class OpenApiCollector {
  readonly #routes: CollectedRoute[] = [];
  readonly #shared = new Map<string, Json>();
  readonly #info: OpenApiInfo;

  constructor(info: OpenApiInfo) {
    this.#info = info;
  }

  add(route: Pick<RouteOptions, 'method' | 'url' | 'schema' | 'config'>, sharedSchemas: Record<string, unknown>): void {
    for (const [id, s] of Object.entries(sharedSchemas)) if (!this.#shared.has(id)) this.#shared.set(id, s as Json);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const config = (route.config ?? {}) as { idempotent?: boolean; openapi?: boolean };
    if (config.openapi === false) return;
    for (const m of methods) {
      const method = String(m).toUpperCase();
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      this.#routes.push({ method, url: route.url, schema: (route.schema ?? {}) as Json, idempotent: config.idempotent === true });
    }
  }

  document(): Json {
    const ids = new Map<string, string>();
    for (const id of this.#shared.keys()) ids.set(id, componentName(id));
    const rewrite = (s: unknown): unknown => rewriteRefs(s, ids);
    const paths: Record<string, Record<string, Json>> = {};
    for (const r of this.#routes) {
      const path = openApiPath(r.url);
      (paths[path] ??= {})[r.method.toLowerCase()] = operation(r, rewrite);
    }
    const schemas: Json = { Problem: problemSchema };
    for (const [id, s] of this.#shared) {
      const { $id: _drop, ...rest } = s;
      schemas[ids.get(id)!] = rewrite(rest);
    }
    return {
      openapi: '3.1.0',
      info: { ...this.#info },
      paths,
      components: { schemas },
    };
  }
}

function componentName(id: string): string {
  return id.replace(/#$/, '').replace(/[^A-Za-z0-9._-]/g, '_');
}

function rewriteRefs(s: unknown, ids: Map<string, string>): unknown {
  if (Array.isArray(s)) return s.map((v) => rewriteRefs(v, ids));
  if (s === null || typeof s !== 'object') return s;
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref' && typeof v === 'string' && !v.startsWith('#')) {
      const hash = v.indexOf('#');
      const id = hash < 0 ? v : v.slice(0, hash);
      const name = ids.get(id) ?? ids.get(id + '#');
      out[k] = name === undefined ? v : `#/components/schemas/${name}${hash < 0 ? '' : v.slice(hash + 1)}`;
    } else out[k] = rewriteRefs(v, ids);
  }
  return out;
}

/** `/cards/:iccid/ssds/:aid` → `/cards/{iccid}/ssds/{aid}` */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, '{$1}').replace(/\*/g, '{wildcard}');
}

function pathParams(url: string): string[] {
  return [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
}

function parameters(where: 'path' | 'query' | 'header', schema: unknown, required: ReadonlySet<string>, rewrite: (s: unknown) => unknown): Json[] {
  const props = (schema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  const req = new Set([...required, ...(((schema as { required?: string[] } | undefined)?.required) ?? [])]);
  return Object.entries(props).map(([name, s]) => ({ name, in: where, required: where === 'path' || req.has(name), schema: rewrite(s) }));
}

function operation(r: CollectedRoute, rewrite: (s: unknown) => unknown): Json {
  const s = r.schema;
  const op: Json = {
    operationId: typeof s.operationId === 'string' ? s.operationId : defaultOperationId(r.method, r.url),
  };
  if (typeof s.summary === 'string') op.summary = s.summary;
  if (typeof s.description === 'string') op.description = s.description;
  if (Array.isArray(s.tags)) op.tags = s.tags;

  const params: Json[] = [];
  const declared = parameters('path', s.params, new Set(), rewrite);
  const declaredNames = new Set(declared.map((p) => p.name));
  params.push(...declared);
  for (const name of pathParams(r.url)) {
    if (!declaredNames.has(name)) params.push({ name, in: 'path', required: true, schema: { type: 'string' } });
  }
  params.push(...parameters('query', s.querystring, new Set(), rewrite));
  params.push(...parameters('header', s.headers, new Set(), rewrite));
  if (r.idempotent && !params.some((p) => p.in === 'header' && String(p.name).toLowerCase() === 'idempotency-key')) {
    params.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: true,
      description: 'Client-chosen unique key; a retry with the same key and body replays the first response.',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  if (params.length > 0) op.parameters = params;

  if (s.body !== undefined) op.requestBody = { required: true, content: contentMap(s.body, 'application/json', rewrite) };

  const responses: Json = {};
  for (const [key, schema] of Object.entries((s.response ?? {}) as Json)) {
    const status = key === 'default' ? 'default' : key.toUpperCase();
    const numeric = Number(key);
    const description = (schema as { description?: string }).description ?? STATUS_CODES[numeric] ?? `status ${status}`;
    const isError = /^[45]/.test(key);
    const noBody = numeric === 204 || numeric === 304 || (schema as { type?: unknown }).type === 'null';
    responses[status] = noBody
      ? { description }
      : { description, content: contentMap(schema, isError ? PROBLEM_CONTENT_TYPE : 'application/json', rewrite) };
  }
  const problem = { content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } };
  if (!Object.keys(responses).some((k) => k.startsWith('4'))) responses['4XX'] = { description: 'Client error', ...problem };
  if (!Object.keys(responses).some((k) => k.startsWith('5'))) responses['5XX'] = { description: 'Server error', ...problem };
  op.responses = responses;
  return op;
}

/** A schema, or fastify's per-content-type form `{ content: { 'type': { schema } } }`, as an OpenAPI content map. */
function contentMap(schema: unknown, defaultType: string, rewrite: (s: unknown) => unknown): Json {
  const content = (schema as { content?: Record<string, { schema?: unknown }> }).content;
  if (content !== undefined && typeof content === 'object' && Object.values(content).every((v) => v !== null && typeof v === 'object' && 'schema' in v)) {
    const out: Json = {};
    for (const [type, v] of Object.entries(content)) out[type] = { schema: rewrite(v.schema) };
    return out;
  }
  const { description: _d, ...rest } = schema as Json;
  return { [defaultType]: { schema: rewrite(rest) } };
}

function defaultOperationId(method: string, url: string): string {
  const words = url
    .split('/')
    .filter((p) => p !== '')
    .map((p) => (p.startsWith(':') ? 'By ' + p.slice(1) : p))
    .join(' ')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '');
  return method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

const documentSchema = { type: 'object', additionalProperties: true } as const;

export const openApiPlugin = platformPlugin('opentsm-openapi', async (app: FastifyInstance, options: { info: OpenApiInfo }) => {
  const collector = new OpenApiCollector(options.info);
  app.addHook('onRoute', function (route) {
    collector.add(route, this.getSchemas());
  });
  let rendered: string | undefined;
  app.get(
    '/openapi.json',
    {
      schema: { summary: 'This service\'s OpenAPI 3.1 document', tags: ['platform'], response: { 200: documentSchema } },
      config: { openapi: false },
    },
    async (_request, reply) => {
      rendered ??= JSON.stringify(collector.document());
      return reply.type('application/json').send(rendered);
    },
  );
});

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: leave this route out of the OpenAPI document. */
    openapi?: boolean;
  }
}
