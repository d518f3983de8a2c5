/** What `GET /version` reports. Compiled binaries get it baked in with `--define BUILD_INFO=...`. */
export interface BuildInfo {
  service: string;
  version: string;
  commit: string;
  built: string;
}

declare const BUILD_INFO: Omit<BuildInfo, "service"> | undefined;

/** The baked-in values in a compiled binary; otherwise the package version and "dev". */
export function readBuildInfo(service: string, packageVersion: string): BuildInfo {
  if (typeof BUILD_INFO !== "undefined") return { service, ...BUILD_INFO };
  return { service, version: packageVersion, commit: "dev", built: "dev" };
}
