import { handleProcessFlags } from "@timekit/runtime/process-flags";
import packageJson from "../package.json" with { type: "json" };

// Flags first, with light imports: the container healthcheck runs `--healthcheck` every few
// seconds and must not pay for loading the HTTP stack.
await handleProcessFlags("service1", packageJson.version);

const [{ runService }, { createApp }, { settings }] = await Promise.all([
  import("@timekit/runtime"),
  import("./app"),
  import("./settings"),
]);
await runService({ name: "service1", packageVersion: packageJson.version, settings, createApp });
