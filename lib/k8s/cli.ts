/**
 * The render library as a command, for looking at output by hand and feeding other tools.
 * Users deploy with `bun deploy.ts`; this only prints.
 *
 *   bun lib/k8s/cli.ts render --target=k8s|helm --input=input.json   # the manifest, as YAML
 *   bun lib/k8s/cli.ts values --service=service1 --input=input.json  # that chart's values, as JSON
 *
 * The input is a RenderInput (see render.ts) as JSON; `--input=-` reads stdin. Exit 0 printed,
 * 1 a tool failed, 2 bad flags or input.
 */
import { exitWithUsageError, parseStrictArgs, requireChoice, UsageError } from "../cli/strict-args";
import { helmReleases, type RenderInput, RenderInputError, renderHelm, renderKustomize } from "./render";
import { SERVICES } from "./settings";
import { ToolError, ToolMissingError } from "./tools";

const COMMAND = "lib/k8s/cli.ts";
const USAGE = `usage: bun ${COMMAND} render --target=k8s|helm --input=FILE | values --service=service1|service2 --input=FILE`;

const argsDef = {
  action: { type: "positional", description: "render or values" },
  input: { type: "string", description: "RenderInput as JSON; - for stdin" },
  target: { type: "string", description: "render: k8s (kustomize) or helm" },
  service: { type: "string", description: "values: which chart" },
} as const;

async function readInput(path: string | undefined): Promise<RenderInput> {
  if (!path) throw new UsageError("--input is required: a RenderInput as JSON (or - for stdin)", "--input");
  const text =
    path === "-"
      ? await Bun.stdin.text()
      : await Bun.file(path)
          .text()
          .catch(() => null);
  if (text === null) throw new UsageError(`--input=${path}: no such file`, "--input");
  try {
    return JSON.parse(text) as RenderInput;
  } catch (error) {
    throw new UsageError(`--input=${path} is not JSON: ${(error as Error).message}`, "--input");
  }
}

export async function main(rawArgs: readonly string[]): Promise<number> {
  const args = parseStrictArgs(argsDef, rawArgs);
  const action = args.action;
  if (action !== "render" && action !== "values") {
    throw new UsageError(`the first argument must be render or values; got ${JSON.stringify(action ?? "")}`);
  }
  const input = await readInput(args.input);
  if (action === "render") {
    const target = requireChoice("target", args.target ?? "", ["k8s", "helm"] as const);
    const { manifest } = target === "k8s" ? await renderKustomize(input) : await renderHelm(input);
    process.stdout.write(manifest);
    return 0;
  }
  const service = requireChoice("service", args.service ?? "", SERVICES);
  const release = helmReleases(input).find((r) => r.release === service);
  process.stdout.write(`${JSON.stringify(release?.values, null, 2)}\n`);
  return 0;
}

if (import.meta.main) {
  try {
    process.exitCode = await main(Bun.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) exitWithUsageError(error, COMMAND, USAGE);
    if (error instanceof RenderInputError) {
      console.error(`${COMMAND}: ${error.message}`);
      process.exit(2);
    }
    if (error instanceof ToolError || error instanceof ToolMissingError) {
      console.error(`${COMMAND}: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}
