/** Flag checks shared by `build`, `publish` and `promote`, as this CLI's exit-2 errors. */
import { requireChoice, UsageError as StrictUsageError } from "../cli/strict-args";
import { UsageError } from "./errors";
import type { FlagValues } from "./flags";
import { SERVICES, type ServiceName } from "./params";
import { checkRegistry } from "./plan";
import { parseReleaseVersion } from "./release";

export function serviceFlag(args: FlagValues, command: string): ServiceName {
  const value = args.service;
  if (typeof value !== "string") {
    throw new UsageError("--service is required", `e.g. bun deploy.ts ${command} --service=service1`);
  }
  try {
    return requireChoice("service", value, SERVICES);
  } catch (error) {
    if (error instanceof StrictUsageError) throw new UsageError(error.message);
    throw error;
  }
}

export function versionFlag(args: FlagValues, command: string, required: boolean): string | undefined {
  const value = args.version;
  if (typeof value !== "string") {
    if (required) throw new UsageError("--version is required", `e.g. bun deploy.ts ${command} --version=1.4.0`);
    return undefined;
  }
  return parseReleaseVersion("version", value);
}

/** --registry, else env REGISTRY; undefined when neither is set. */
export function registryFlag(args: FlagValues): string | undefined {
  const value = typeof args.registry === "string" ? args.registry : Bun.env.REGISTRY || undefined;
  if (value === undefined) return undefined;
  const problem = checkRegistry(value);
  if (problem) throw new UsageError(problem);
  return value;
}
