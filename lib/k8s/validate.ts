/**
 * Validates rendered objects against the Kubernetes API schemas, offline, in two passes:
 * - kubernetes-models' validators: wrong types, missing required fields, bad formats;
 * - an unknown-field check, which those validators skip (a misspelt `readOnlyRootFilesytem` would
 *   otherwise pass here and be dropped, or rejected, by the API server). It walks each object
 *   beside the model's TypeScript type, read with the TypeScript compiler API.
 */
import { join } from "node:path";
import ts from "typescript";
import { REPO_ROOT } from "../paths";
import { closest } from "../suggest";
import { type K8sObject, objectId } from "./objects";

export interface SchemaProblem {
  /** `Kind/namespace/name`. */
  object: string;
  check: "schema" | "unknown-field" | "unsupported";
  message: string;
}

/** The kinds the check knows; anything else is reported, not silently passed. */
export const SUPPORTED_KINDS: Record<string, readonly string[]> = {
  v1: ["Namespace", "ServiceAccount", "ConfigMap", "Secret", "Service", "Pod", "PersistentVolumeClaim"],
  "apps/v1": ["Deployment", "StatefulSet", "DaemonSet"],
  "batch/v1": ["Job", "CronJob"],
  "policy/v1": ["PodDisruptionBudget"],
  "autoscaling/v2": ["HorizontalPodAutoscaler"],
  "networking.k8s.io/v1": ["NetworkPolicy", "Ingress"],
  "rbac.authorization.k8s.io/v1": ["Role", "RoleBinding"],
};

function supported(object: K8sObject): boolean {
  return SUPPORTED_KINDS[object.apiVersion]?.includes(object.kind) ?? false;
}

/* ------------------------------------------------------------ schema pass */

interface ModelClass {
  new (data: unknown): { validate(): void };
}

async function modelClass(apiVersion: string, kind: string): Promise<ModelClass> {
  const module = (await import(`kubernetes-models/${apiVersion}`)) as Record<string, ModelClass>;
  const model = module[kind];
  if (!model) throw new Error(`kubernetes-models/${apiVersion} has no ${kind}`);
  return model;
}

async function schemaProblems(object: K8sObject): Promise<SchemaProblem[]> {
  const model = await modelClass(object.apiVersion, object.kind);
  try {
    new model(object).validate();
    return [];
  } catch (error) {
    return [{ object: objectId(object), check: "schema", message: (error as Error).message }];
  }
}

/* ----------------------------------------------------- unknown-field pass */

interface TypeIndex {
  checker: ts.TypeChecker;
  types: Map<string, ts.Type>;
}

let typeIndex: TypeIndex | undefined;

/** One compiler program over the model declarations of every supported kind, built once. */
function loadTypes(): TypeIndex {
  if (typeIndex) return typeIndex;
  const entries = Object.entries(SUPPORTED_KINDS).flatMap(([apiVersion, kinds]) =>
    kinds.map((kind) => ({ key: `${apiVersion}/${kind}`, apiVersion, kind })),
  );
  const source = entries
    .map(
      ({ apiVersion, kind }, index) =>
        `import type { I${kind} as T${index} } from "kubernetes-models/${apiVersion}/${kind}";`,
    )
    .concat(entries.map((_, index) => `export type K${index} = T${index};`))
    .join("\n");
  const file = join(REPO_ROOT, "__kubernetes_model_types__.ts");
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.Preserve,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ESNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    // The model declarations need only the basic types; the full ESNext library triples the load time.
    lib: ["lib.es5.d.ts"],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists } = host;
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, source, language) : getSourceFile.call(host, name, language, ...rest);
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  const program = ts.createProgram([file], options, host);
  const checker = program.getTypeChecker();
  const sourceFile = program.getSourceFile(file);
  if (!sourceFile) throw new Error("could not load the kubernetes-models type declarations");
  const types = new Map<string, ts.Type>();
  const aliases = sourceFile.statements.filter(ts.isTypeAliasDeclaration);
  for (const [index, alias] of aliases.entries()) {
    const type = checker.getTypeAtLocation(alias.name);
    const entry = entries[index];
    if (!entry || type.flags & ts.TypeFlags.Any) {
      throw new Error(`kubernetes-models declares no type for ${entry?.key ?? alias.name.text}`);
    }
    types.set(entry.key, type);
  }
  typeIndex = { checker, types };
  return typeIndex;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function walk(checker: ts.TypeChecker, value: unknown, declared: ts.Type, path: string, found: string[]): void {
  const type = checker.getNonNullableType(declared);
  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
  const members = type.isUnion() ? type.types : [type];
  if (Array.isArray(value)) {
    const array = members.find((member) => checker.isArrayType(member));
    const element = array && checker.getTypeArguments(array as ts.TypeReference)[0];
    if (element) for (const [index, item] of value.entries()) walk(checker, item, element, `${path}[${index}]`, found);
    return;
  }
  if (!isRecord(value)) return;
  const objects = members.filter((member) => member.flags & ts.TypeFlags.Object && !checker.isArrayType(member));
  const open = objects.some(
    (member) =>
      checker.getIndexInfoOfType(member, ts.IndexKind.String) === undefined &&
      checker.getPropertiesOfType(member).length === 0,
  );
  if (objects.length === 0 || open) return; // a primitive was expected (the schema pass reports it), or free-form JSON
  for (const [key, child] of Object.entries(value)) {
    const where = path ? `${path}.${key}` : key;
    let childType: ts.Type | undefined;
    for (const member of objects) {
      const property = checker.getPropertyOfType(member, key);
      childType = property
        ? checker.getTypeOfSymbol(property)
        : checker.getIndexInfoOfType(member, ts.IndexKind.String)?.type;
      if (childType) break;
    }
    if (childType) {
      walk(checker, child, childType, where, found);
    } else {
      const known = objects.flatMap((member) => checker.getPropertiesOfType(member).map((p) => p.name));
      const guess = closest(key, known);
      found.push(`unknown field ${where}${guess ? ` (did you mean ${guess}?)` : ""}`);
    }
  }
}

/** Field paths in `object` that its kind's schema does not declare. */
export function unknownFields(object: K8sObject): string[] {
  const { checker, types } = loadTypes();
  const type = types.get(`${object.apiVersion}/${object.kind}`);
  if (!type) return [];
  const found: string[] = [];
  walk(checker, object, type, "", found);
  return found;
}

/** Every schema problem in the rendered set; an empty list means it is valid. */
export async function validateObjects(objects: readonly K8sObject[]): Promise<SchemaProblem[]> {
  const problems: SchemaProblem[] = [];
  for (const object of objects) {
    if (!supported(object)) {
      problems.push({
        object: objectId(object),
        check: "unsupported",
        message: `${object.apiVersion} ${object.kind} is not a kind this check knows; add it to SUPPORTED_KINDS`,
      });
      continue;
    }
    problems.push(...(await schemaProblems(object)));
    for (const message of unknownFields(object)) {
      problems.push({ object: objectId(object), check: "unknown-field", message });
    }
  }
  return problems;
}

export function formatProblems(problems: readonly SchemaProblem[]): string {
  return problems.map((p) => `${p.check}  ${p.object}: ${p.message}`).join("\n");
}
