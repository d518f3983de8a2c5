/**
 * Makes an ed25519 key pair for signing release archives (lib/images/signing.ts):
 *
 *   bun scripts/release/signing-key.ts --out=DIR [--name=ci]
 *
 * writes DIR/<name>.pem (the private key, 0600: put it into the repository secret
 * TIMEKIT_SIGNING_KEY, then delete it) and DIR/<name>.pub (commit it as release-keys/<name>.pub,
 * so every checkout trusts archives the release workflow signs). Refuses to overwrite either.
 * Exit 0 written, 1 a file exists or cannot be written, 2 usage error.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { newKeyPair } from "../../lib/images/signing";

const USAGE = "usage: bun scripts/release/signing-key.ts --out=DIR [--name=NAME]";

function main(args: string[]): number {
  let values: { out?: string; name?: string };
  try {
    ({ values } = parseArgs({ args, options: { out: { type: "string" }, name: { type: "string" } }, strict: true }));
  } catch (error) {
    console.error(`signing-key: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const name = values.name ?? "ci";
  if (!values.out) {
    console.error(`signing-key: --out is required\n${USAGE}`);
    return 2;
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    console.error(`signing-key: --name=${JSON.stringify(name)} must be letters, digits, . _ - (it names the files)`);
    return 2;
  }
  const dir = resolve(values.out);
  const [privateFile, publicFile] = [join(dir, `${name}.pem`), join(dir, `${name}.pub`)];
  for (const file of [privateFile, publicFile]) {
    if (existsSync(file)) {
      console.error(`signing-key: ${file} exists; not overwriting a key`);
      return 1;
    }
  }
  const pair = newKeyPair();
  mkdirSync(dir, { recursive: true });
  writeFileSync(privateFile, pair.privateKeyPem, { mode: 0o600, flag: "wx" });
  writeFileSync(publicFile, pair.publicKeyPem, { flag: "wx" });
  console.log(`wrote ${privateFile} (private: store it as the secret TIMEKIT_SIGNING_KEY, then delete it)`);
  console.log(`wrote ${publicFile} (public: commit it as release-keys/${name}.pub)`);
  console.log(`key id ${pair.keyid}`);
  return 0;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
