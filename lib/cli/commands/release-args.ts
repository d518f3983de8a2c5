/** Flags of the release commands (`build`, `publish`, `promote`, `integrate`): one service, one version. */
import type { ArgsDef } from "citty";
import { SERVICES } from "../../services";

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
