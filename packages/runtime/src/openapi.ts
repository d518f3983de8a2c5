import type { AnyElysia } from "elysia";
import type { OpenAPIV3_1 } from "openapi-types";
import type { BuildInfo } from "./build-info";

/**
 * The OpenAPI document of a service, as the wire behaves: Elysia's plugin turns the route schemas
 * into paths, and this fills in what schemas cannot say: text answers, the JSON error answers every
 * operation can give (413, 500, and those a route declares), examples, the x-request-id header, and
 * the document's own route.
 */

export const OPENAPI_PATH = "/openapi/json";
const OPENAPI_VERSION = "3.1.0";
const EXTENSION = "x-timekit";

/** A JSON error answer, by status: its component name and what it means. */
const ERROR_RESPONSES = {
  400: ["BadRequest", "A client mistake; the message names the field and what is allowed.", "INVALID_REQUEST"],
  404: ["NotFound", "No route has this path (any unknown path, any method).", "NOT_FOUND"],
  405: [
    "MethodNotAllowed",
    "The path exists but not with this method; `Allow` lists the methods.",
    "METHOD_NOT_ALLOWED",
  ],
  413: [
    "PayloadTooLarge",
    "The declared body is larger than MAX_BODY_BYTES (a chunked body over twice the limit is cut with an empty 413).",
    "BODY_TOO_LARGE",
  ],
  500: [
    "InternalError",
    "An unexpected failure; details are only in the service log, under the request id.",
    "INTERNAL",
  ],
  502: ["BadGateway", "service1 answered something that is not a valid answer.", "UPSTREAM_BAD_RESPONSE"],
  503: [
    "ServiceUnavailable",
    "service1 could not be reached at any of its addresses, retries included.",
    "UPSTREAM_UNAVAILABLE",
  ],
  504: ["GatewayTimeout", "service1 did not answer within SERVICE1_TIMEOUT_MS, retries included.", "UPSTREAM_TIMEOUT"],
} as const;

export type ErrorStatus = keyof typeof ERROR_RESPONSES;
/** Every operation can answer these; routes name the others they can give. */
const ALWAYS: readonly ErrorStatus[] = [413, 500];

export interface TextAnswer {
  description: string;
  example: string;
}

export interface OperationDoc {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** JSON error statuses this operation answers, beyond 413 and 500. */
  errors?: ErrorStatus[];
  /** Plain-text answers (legacy routes, metrics), by status. */
  text?: Record<number, TextAnswer>;
  /** Examples of the JSON answers the route schema describes, by status. */
  examples?: Record<number, unknown>;
  /** An example request body. */
  requestExample?: unknown;
  /** The body may be left out (the plugin marks every declared body required). */
  bodyOptional?: boolean;
}

/** The route's `detail`: the plugin copies it into the operation; `completeDocument` reads the extension. */
export function operation(doc: OperationDoc) {
  const { operationId, summary, description, tags, ...extension } = doc;
  return { operationId, summary, ...(description ? { description } : {}), tags, [EXTENSION]: extension };
}

const ErrorJsonSchema: OpenAPIV3_1.SchemaObject = {
  type: "object",
  required: ["error"],
  additionalProperties: false,
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      additionalProperties: false,
      properties: {
        code: { type: "string", description: "Stable, upper case: INVALID_TZ, NOT_FOUND, UPSTREAM_TIMEOUT, …" },
        message: { type: "string", description: "What is wrong and what is allowed, naming the field." },
      },
    },
  },
};

type Document = OpenAPIV3_1.Document;
type Operation = OpenAPIV3_1.OperationObject & { [EXTENSION]?: Omit<OperationDoc, "operationId" | "summary" | "tags"> };

const REQUEST_ID_HEADER = { $ref: "#/components/headers/RequestId" };

function errorComponents(statuses: Iterable<ErrorStatus>): Record<string, OpenAPIV3_1.ResponseObject> {
  const responses: Record<string, OpenAPIV3_1.ResponseObject> = {};
  for (const status of statuses) {
    const [name, description, code] = ERROR_RESPONSES[status];
    responses[name] = {
      description,
      headers: {
        "x-request-id": REQUEST_ID_HEADER,
        ...(status === 405 ? { allow: { $ref: "#/components/headers/Allow" } } : {}),
      },
      content: {
        "application/json": {
          schema: { $ref: "#/components/schemas/Error" },
          example: { error: { code, message: "…" } },
        },
      },
    };
  }
  return responses;
}

function completeOperation(op: Operation, usedErrors: Set<ErrorStatus>): void {
  const extension = op[EXTENSION] ?? {};
  delete op[EXTENSION];
  const responses: OpenAPIV3_1.ResponsesObject = op.responses ?? {};
  op.responses = responses;
  for (const [status, response] of Object.entries(responses)) {
    if ("$ref" in response) continue;
    response.headers = { "x-request-id": REQUEST_ID_HEADER, ...response.headers };
    const example = extension.examples?.[Number(status)];
    const json = response.content?.["application/json"];
    if (example !== undefined && json) json.example = example;
  }
  for (const [status, answer] of Object.entries(extension.text ?? {})) {
    responses[status] = {
      description: answer.description,
      headers: { "x-request-id": REQUEST_ID_HEADER },
      content: { "text/plain": { schema: { type: "string" }, example: answer.example } },
    };
  }
  for (const status of [...(extension.errors ?? []), ...ALWAYS]) {
    usedErrors.add(status);
    responses[status] = { $ref: `#/components/responses/${ERROR_RESPONSES[status][0]}` };
  }
  const body = op.requestBody;
  if (body && !("$ref" in body)) {
    const json = body.content["application/json"];
    if (json && extension.requestExample !== undefined) json.example = extension.requestExample;
    if (extension.bodyOptional) body.required = false;
  }
  op.parameters = [...(op.parameters ?? []), { $ref: "#/components/parameters/RequestId" }];
}

function documentOperation(): Operation {
  return {
    operationId: "getOpenApiDocument",
    summary: "This OpenAPI 3.1 document.",
    tags: ["ops"],
    responses: {
      200: {
        description: "The document of every route of this service.",
        content: {
          "application/json": {
            schema: {
              type: "object",
              required: ["openapi", "info", "paths"],
              properties: { openapi: { type: "string" } },
            },
          },
        },
      },
    },
    [EXTENSION]: {},
  };
}

/**
 * Builds the whole document from the app's routes (call once every route is registered). The
 * plugin is loaded here, on the first request for the document, not at start-up.
 */
export async function buildDocument(app: AnyElysia, info: BuildInfo, description: string): Promise<Document> {
  const { toOpenAPISchema } = await import("@elysiajs/openapi");
  const generated = toOpenAPISchema(app, { methods: ["options", "head"] }, undefined, undefined, OPENAPI_VERSION);
  const paths = generated.paths as Record<string, Record<string, Operation>>;
  paths[OPENAPI_PATH] = { get: documentOperation() };
  const usedErrors = new Set<ErrorStatus>([404, 405]);
  for (const item of Object.values(paths)) {
    for (const op of Object.values(item)) completeOperation(op, usedErrors);
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: info.service,
      version: info.version,
      description: `${description}\n\nAny unknown path answers 404 and a known path with another method 405 (components.responses.NotFound and MethodNotAllowed). Every answer carries x-request-id.`,
    },
    tags: [
      { name: "ops", description: "Probes, version, metrics and this document." },
      ...[...new Set(Object.values(paths).flatMap((item) => Object.values(item).flatMap((op) => op.tags ?? [])))]
        .filter((tag) => tag !== "ops")
        .map((name) => ({ name })),
    ],
    paths: paths as OpenAPIV3_1.PathsObject,
    components: {
      schemas: {
        ...(generated.components.schemas as Record<string, OpenAPIV3_1.SchemaObject>),
        Error: ErrorJsonSchema,
      },
      responses: errorComponents([...usedErrors].sort((a, b) => a - b)),
      headers: {
        RequestId: {
          description: "The caller's x-request-id if it is 1–128 of [A-Za-z0-9_.:-], else a new UUID.",
          schema: { type: "string", pattern: "^[\\w.:-]{1,128}$" },
        },
        Allow: { description: "The methods this path answers.", schema: { type: "string" } },
      },
      parameters: {
        RequestId: {
          name: "x-request-id",
          in: "header",
          required: false,
          description: "Traces the request through both services' logs; returned on the answer.",
          schema: { type: "string" },
        },
      },
    },
  };
}
