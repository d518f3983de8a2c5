/** Flags of the release commands (`build`, `publish`, `promote`, `integrate`): one service, one version. */
import { resolve } from "node:path";
import type { ArgsDef } from "citty";
import { UsageError } from "../../errors";
import type { Io } from "../../io";
import { DEFAULT_STATE_DIR } from "../../paths";
import { SERVICES } from "../../services";
import { check } from "../flags";
import { registry as checkRegistry, type Problems, releaseVersion } from "../values";

export const serviceArg = {
  service: {
    type: "enum",
    options: [...SERVICES],
    required: true,
    description: "service1 or service2 (required)",
    valueHint: "service",
  },
} as const satisfies ArgsDef;

export const versionArg = {
  version: {
    type: "string",
    description: "Release version X.Y.Z or X.Y.Z-pre.N (a leading v is dropped)",
    valueHint: "X.Y.Z",
  },
} as const satisfies ArgsDef;

export const requiredVersionArg = {
  version: { ...versionArg.version, required: true },
} as const satisfies ArgsDef;

export function registryArg(description: string) {
  return { registry: { type: "string", description, valueHint: "registry" } } as const satisfies ArgsDef;
}

/** --version as a release version and --registry (else env REGISTRY), both problems at once. */
export function releaseFrom(
  values: { version: string; registry?: string | undefined },
  io: Io,
): { version: string; registry: string | undefined } {
  const problems: Problems = [];
  const version = releaseVersion("version", values.version, problems) ?? "";
  const registry = checkRegistry(values.registry ?? (io.env.REGISTRY || undefined), problems);
  check(problems);
  return { version, registry };
}

export const stateDirArg = {
  state_dir: {
    type: "string",
    description:
      "State directory: this machine's signing key (keys/) and trusted public keys (trusted-keys/) (env TIMEKIT_STATE_DIR; default .state/)",
    valueHint: "dir",
  },
} as const satisfies ArgsDef;

export const archiveDirArg = (description: string) =>
  ({ archive_dir: { type: "string", description, valueHint: "dir" } }) as const satisfies ArgsDef;

export const signingKeyArg = {
  signing_key: {
    type: "string",
    description:
      "ed25519 private key (PEM) that signs archives and provenance (env TIMEKIT_SIGNING_KEY holding the PEM, or TIMEKIT_SIGNING_KEY_FILE; default: this machine's own key in the state dir)",
    valueHint: "file",
  },
} as const satisfies ArgsDef;

/** The state directory every project shares (keys live here, not per project). */
export function stateBaseFrom(values: { state_dir?: string | undefined }, io: Io): string {
  return resolve(values.state_dir || io.env.TIMEKIT_STATE_DIR || DEFAULT_STATE_DIR);
}

/**
 * The options `publish` and `promote` share: one release, where it goes (a registry and/or an
 * archive directory: at least one, else `need` says so with `example`'s flags), the signing key.
 */
export function destinationFrom<S extends string>(
  values: {
    service: S;
    version: string;
    registry?: string | undefined;
    archive_dir?: string | undefined;
    signing_key?: string | undefined;
    state_dir?: string | undefined;
    json: boolean;
    quiet: boolean;
  },
  io: Io,
  need: string,
  example: (version: string) => string,
) {
  const { version, registry } = releaseFrom(values, io);
  if (!registry && !values.archive_dir) throw new UsageError(need, `e.g. bun deploy.ts ${example(version)}`);
  return {
    service: values.service,
    version,
    registry,
    archiveDir: values.archive_dir,
    signingKey: values.signing_key,
    stateBase: stateBaseFrom(values, io),
    json: values.json,
    quiet: values.quiet,
  };
}
