/**
 * `bun run dev`: both services from source with reload on change, wired to each other.
 * service2 on PORT (default 8080), service1 on PORT+1. Ctrl-C stops both.
 */
import { join } from "node:path";
import { REPO_ROOT } from "../lib/paths";

const port = Number(Bun.env.PORT ?? 8080);

const children = [
  { name: "service1", port: port + 1, env: {} },
  { name: "service2", port, env: { SERVICE1_URL: `http://127.0.0.1:${port + 1}` } },
].map(({ name, port, env }) => {
  console.log(`${name}: http://127.0.0.1:${port}`);
  return Bun.spawn([process.execPath, "--watch", join(REPO_ROOT, name, "src/main.ts")], {
    env: { ...Bun.env, HOST: "127.0.0.1", ...env, PORT: String(port) },
    stdio: ["ignore", "inherit", "inherit"],
  });
});

const stop = () => {
  for (const child of children) child.kill("SIGTERM");
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
const codes = await Promise.all(children.map((child) => child.exited));
process.exit(Math.max(...codes.map((code) => (code === 143 || code === 130 ? 0 : code))));
