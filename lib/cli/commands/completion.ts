/**
 * `deploy.ts completion bash|zsh|fish`: a completion script generated from every command's flags
 * (lib/cli/completion.ts). main.ts runs it, since it needs the list of commands; this entry gives
 * it a name, a description and `--help`.
 */
import { UsageError } from "../../errors";
import { defineCommand } from "../command";

export default defineCommand({
  name: "completion",
  description: "Print a shell completion script for bash, zsh or fish, e.g. source <(bun deploy.ts completion bash)",
  args: {},
  options() {
    throw new UsageError("completion takes one shell: bash, zsh, fish", "e.g. source <(bun deploy.ts completion bash)");
  },
  async run() {},
});
