/** The few Docker calls the bench makes, through the engine CLI on this machine. */

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

export async function exec(
  cmd: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<Exec> {
  const proc = Bun.spawn(cmd, {
    env: { ...Bun.env, ...options.env },
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

export async function docker(args: string[], stdin?: string): Promise<Exec> {
  return exec(["docker", ...args], stdin === undefined ? {} : { stdin });
}

/** True when the engine answers within a few seconds. */
export async function dockerAnswers(): Promise<boolean> {
  if (!Bun.which("docker")) return false;
  const probe = Bun.spawn(["docker", "version", "--format", "{{.Server.Version}}"], {
    stdout: "ignore",
    stderr: "ignore",
  });
  const code = await Promise.race([probe.exited, Bun.sleep(8000).then(() => -1)]);
  if (code === -1) probe.kill();
  return code === 0;
}

export async function imageSize(ref: string): Promise<number> {
  const r = await docker(["image", "inspect", "--format", "{{.Size}}", ref]);
  if (r.code !== 0) throw new Error(`docker image inspect ${ref}: ${r.stderr.trim()}`);
  return Number(r.stdout.trim());
}

/** Bytes of `docker save REF | gzip -6`: about what a registry stores and a pull transfers. */
export async function gzippedImageSize(ref: string): Promise<number> {
  const r = await exec(["sh", "-c", 'docker save "$1" | gzip -6 | wc -c', "sh", ref]);
  if (r.code !== 0) throw new Error(`docker save ${ref}: ${r.stderr.trim()}`);
  return Number(r.stdout.trim());
}
