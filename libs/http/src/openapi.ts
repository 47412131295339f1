import { ApiExtension } from '@nestjs/swagger';
import type {
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  ReferenceObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ErrorCode, ErrorCodes, httpStatusOf } from '@flashdrop/contracts';

/**
 * What /docs/openapi.json says about refusals, in one place. Nest's scanner documents a route's
 * success and its DTOs; what every route of a kind can answer besides (a bad request, no token,
 * the wrong role, no such resource, the process at its bound) is added here to every operation
 * by `completeDocument`, and what only some routes answer (a 409's codes, a 429, a 402) is said
 * by the route itself (`ApiRefusals` on a controller method, `refusals` on a lean route). Every
 * refusal carries the one error body (`Error`). What must stay true: a status an e2e test sees
 * from a route is in the route's operation (apps/api/test/openapi.e2e-spec.ts checks it).
 */

export const ERROR_SCHEMA_NAME = 'Error';
const ERROR_REF: ReferenceObject = { $ref: `#/components/schemas/${ERROR_SCHEMA_NAME}` };

/** The contract's error body (docs/api.md "General"). */
export const ErrorSchema: SchemaObject = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', enum: [...ErrorCodes] },
    message: { type: 'string' },
    details: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
    errorId: { type: 'string', description: 'Only on 500: quote it when reporting the error' },
  },
};

const RETRY_AFTER = {
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer' },
  },
};

/** A refusal's response object: the codes it may carry, the error body, Retry-After on 429/503. */
function refusalResponse(status: number, description: string): ResponseObject {
  return {
    description,
    content: { 'application/json': { schema: ERROR_REF } },
    ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
  };
}

/** Codes grouped by the status they answer with: { 409: 'SALE_ENDED, SOLD_OUT' }. */
export function refusalsByStatus(codes: readonly ErrorCode[]): Record<number, string> {
  const byStatus: Record<number, string[]> = {};
  for (const code of codes) (byStatus[httpStatusOf(code)] ??= []).push(code);
  return Object.fromEntries(Object.entries(byStatus).map(([s, c]) => [s, c.join(', ')]));
}

/** Where ApiRefusals leaves a route's codes for completeDocument (taken out of the document). */
const REFUSALS_EXTENSION = 'x-flashdrop-refusals';

/**
 * On a controller method: the refusals only this route gives (statuses from the codes). Not
 * `@ApiResponse`: one of those on a method makes Nest's scanner leave out the route's success
 * response, which the coverage test then finds missing (a PATCH without its 200).
 */
export function ApiRefusals(...codes: ErrorCode[]): MethodDecorator {
  return ApiExtension(REFUSALS_EXTENSION, codes);
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * A success body's schema, as JSON; or, for a route that answers more than one media type
 * (JSON or CSV), the schema of each.
 */
export type SuccessBody = SchemaObject | Readonly<Record<`${string}/${string}`, SchemaObject>>;

/** Each operation's success body: `METHOD path` (as the document spells it) -> its schema. */
export type SuccessBodies = Readonly<Record<string, SuccessBody>>;

/** The success of an operation that answers 204: no media type, no body. */
export const NO_CONTENT: SuccessBody = Object.freeze({});

const isMediaMap = (body: SuccessBody): body is Readonly<Record<string, SchemaObject>> =>
  body === NO_CONTENT || Object.keys(body).every((k) => k.includes('/'));

/**
 * Completes the document Nest built (with the lean routes merged in): the error schema, every
 * path parameter declared, on every operation the refusals its kind of route can give, and the
 * success bodies the app describes (`bodies`) on each 2xx response but a 204.
 */
export function completeDocument(
  document: OpenAPIObject,
  bodies: SuccessBodies = {},
): OpenAPIObject {
  document.components ??= {};
  document.components.schemas = {
    ...document.components.schemas,
    [ERROR_SCHEMA_NAME]: ErrorSchema,
  };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      completeOperation(path, op);
      const body = bodies[`${method.toUpperCase()} ${path}`];
      if (body) describeSuccess(op, body);
    }
  }
  return document;
}

function completeOperation(path: string, op: OperationObject): void {
  const params = (op.parameters ?? []) as ParameterObject[];
  for (const name of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])) {
    if (!params.some((p) => p.in === 'path' && p.name === name)) {
      params.push({ name, in: 'path', required: true, schema: { type: 'string' } });
    }
  }
  op.parameters = params;
  const common: Record<number, string> = {};
  // A body, a query or a path parameter can be malformed; an id that names nothing is a 404.
  if (op.requestBody || params.some((p) => p.in === 'query' || p.in === 'path'))
    common[400] = 'VALIDATION_FAILED';
  if (op.requestBody) {
    common[413] = 'PAYLOAD_TOO_LARGE';
    common[415] = 'UNSUPPORTED_MEDIA_TYPE';
  }
  if (op.security?.length) {
    common[401] = 'UNAUTHENTICATED';
    common[403] = 'FORBIDDEN';
  }
  if (params.some((p) => p.in === 'path')) common[404] = 'NOT_FOUND';
  common[500] = 'INTERNAL';
  // Any route: the process at its bound of requests in flight, or a server it needs away.
  common[503] = 'SERVICE_UNAVAILABLE';
  const responses = (op.responses ??= {}) as Record<string, ResponseObject | ReferenceObject>;
  const extensions = op as unknown as Record<string, ErrorCode[] | undefined>;
  const own = extensions[REFUSALS_EXTENSION];
  delete extensions[REFUSALS_EXTENSION];
  for (const [status, codes] of Object.entries(refusalsByStatus(own ?? []))) {
    responses[status] ??= refusalResponse(Number(status), codes);
  }
  for (const [status, codes] of Object.entries(common)) {
    responses[status] ??= refusalResponse(Number(status), codes);
  }
  // A refusal the route declared itself without a body gets the error body too.
  for (const [status, response] of Object.entries(responses)) {
    const own = response as ResponseObject;
    if (Number(status) >= 400 && !('$ref' in response) && !own.content) {
      responses[status] = refusalResponse(Number(status), own.description);
    }
  }
}

function describeSuccess(op: OperationObject, body: SuccessBody): void {
  if (body === NO_CONTENT) return;
  const media = isMediaMap(body) ? body : { 'application/json': body };
  for (const [status, response] of Object.entries(op.responses ?? {})) {
    if (!response || !/^2\d\d$/.test(status) || status === '204' || '$ref' in response) continue;
    (response as ResponseObject).content = Object.fromEntries(
      Object.entries(media).map(([type, schema]) => [type, { schema }]),
    );
  }
}
