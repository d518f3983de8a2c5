/**
 * Signatures over release artifacts: ed25519 keys (node:crypto) and DSSE envelopes
 * (https://github.com/secure-systems-lab/dsse) around in-toto statements, the format
 * `cosign verify-blob-attestation` and the in-toto tools read.
 *
 * Keys, in order (docs/pipeline.md, "Archive trust"):
 * - the signing key: `--signing_key=FILE`, else env TIMEKIT_SIGNING_KEY (the PEM itself, for a CI
 *   secret) or TIMEKIT_SIGNING_KEY_FILE, else this machine's own key in
 *   `<state dir>/keys/archive-signing.pem`, created on first use (0600) with its public key put
 *   into `<state dir>/trusted-keys/`, so what a machine publishes it also deploys;
 * - trusted public keys: every `*.pub` (PEM) in the repository's `release-keys/` and in
 *   `<state dir>/trusted-keys/`.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as signBytes,
  verify as verifyBytes,
} from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DeployError, ExitCode } from "../errors";

export const IN_TOTO_PAYLOAD = "application/vnd.in-toto+json";

export interface Envelope {
  payloadType: string;
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

export interface SigningKey {
  keyid: string;
  privateKey: KeyObject;
  publicKeyPem: string;
  /** Where it came from, for messages. */
  source: string;
}

export interface TrustedKey {
  keyid: string;
  publicKey: KeyObject;
  file: string;
}

/** The sha256 of the public key's DER (SPKI): the same for a key wherever it is stored. */
export function keyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return `sha256:${new Bun.CryptoHasher("sha256").update(der).digest("hex")}`;
}

/** DSSE's pre-authentication encoding: what is actually signed. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType);
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

function ed25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== "ed25519") {
    throw new DeployError(
      `${what} is a ${key.asymmetricKeyType} key; archives are signed with ed25519`,
      ExitCode.usage,
      "generate one: bun scripts/release/signing-key.ts --out=DIR",
    );
  }
  return key;
}

export function signingKeyFromPem(pem: string, source: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = ed25519(createPrivateKey(pem), source);
  } catch (error) {
    if (error instanceof DeployError) throw error;
    throw new DeployError(
      `${source} is not a PEM private key (${(error as Error).message})`,
      ExitCode.usage,
      "generate one: bun scripts/release/signing-key.ts --out=DIR",
    );
  }
  const publicKey = createPublicKey(privateKey);
  return {
    keyid: keyId(publicKey),
    privateKey,
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    source,
  };
}

/** A new key pair as PEM texts (private PKCS#8, public SPKI). */
export function newKeyPair(): { privateKeyPem: string; publicKeyPem: string; keyid: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    keyid: keyId(publicKey),
  };
}

export const LOCAL_KEY_FILE = join("keys", "archive-signing.pem");
export const TRUSTED_KEYS_DIR = "trusted-keys";
/** The repository's directory of trusted public keys (committed: the CI signing key's public half). */
export const RELEASE_KEYS_DIR = "release-keys";

/** Where trusted public keys are read from: the repository's release-keys/ and the state dir's trusted-keys/. */
export function trustedKeyDirs(repoRoot: string, stateBase: string): string[] {
  return [join(repoRoot, RELEASE_KEYS_DIR), join(stateBase, TRUSTED_KEYS_DIR)];
}

/**
 * The key `publish` signs with (see the module comment); `note` hears when this machine's own
 * key was created.
 */
export function signingKey(
  options: { file?: string | undefined; stateBase: string; env: Readonly<Record<string, string | undefined>> },
  note: (line: string) => void,
): SigningKey {
  const file = options.file ?? (options.env.TIMEKIT_SIGNING_KEY_FILE || undefined);
  if (file) {
    if (!existsSync(file)) {
      throw new DeployError(`signing key ${file} does not exist`, ExitCode.usage, "point --signing_key at a PEM file");
    }
    return signingKeyFromPem(readFileSync(file, "utf8"), file);
  }
  if (options.env.TIMEKIT_SIGNING_KEY) return signingKeyFromPem(options.env.TIMEKIT_SIGNING_KEY, "TIMEKIT_SIGNING_KEY");
  const local = join(options.stateBase, LOCAL_KEY_FILE);
  if (existsSync(local)) return signingKeyFromPem(readFileSync(local, "utf8"), local);
  const pair = newKeyPair();
  mkdirSync(join(options.stateBase, "keys"), { recursive: true, mode: 0o700 });
  writeFileSync(local, pair.privateKeyPem, { mode: 0o600, flag: "wx" });
  chmodSync(local, 0o600);
  const trusted = join(options.stateBase, TRUSTED_KEYS_DIR);
  mkdirSync(trusted, { recursive: true });
  const publicFile = join(trusted, `local-${pair.keyid.slice(7, 19)}.pub`);
  writeFileSync(publicFile, pair.publicKeyPem);
  note(`created this machine's signing key ${local} (${pair.keyid}); its public key ${publicFile} is trusted here`);
  return signingKeyFromPem(pair.privateKeyPem, local);
}

/** Every `*.pub` public key in `dirs` (missing directories are skipped); a bad file is an error naming it. */
export function trustedKeys(dirs: readonly string[]): TrustedKey[] {
  const keys: TrustedKey[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (!name.endsWith(".pub")) continue;
      const file = join(dir, name);
      let publicKey: KeyObject;
      try {
        publicKey = ed25519(createPublicKey(readFileSync(file, "utf8")), file);
      } catch (error) {
        if (error instanceof DeployError) throw error;
        throw new DeployError(
          `trusted key ${file} is not a PEM public key (${(error as Error).message})`,
          ExitCode.usage,
          `remove it or replace it with an ed25519 public key`,
        );
      }
      keys.push({ keyid: keyId(publicKey), publicKey, file });
    }
  }
  return keys;
}

/** A DSSE envelope of `statement`, signed by `key`. Ed25519 is deterministic: same input, same bytes. */
export function signStatement(statement: unknown, key: SigningKey): Envelope {
  const payload = Buffer.from(JSON.stringify(statement));
  const sig = signBytes(null, pae(IN_TOTO_PAYLOAD, payload), key.privateKey);
  return {
    payloadType: IN_TOTO_PAYLOAD,
    payload: payload.toString("base64"),
    signatures: [{ keyid: key.keyid, sig: sig.toString("base64") }],
  };
}

export type Verification =
  | { kind: "trusted"; statement: unknown; key: TrustedKey }
  /** Well-formed, but no trusted key made any of its signatures. */
  | { kind: "untrusted"; statement: unknown; keyids: string[] };

/** Reads and checks an envelope against `keys`; throws (exit 1) when it is not a DSSE envelope at all. */
export function verifyEnvelope(text: string, keys: readonly TrustedKey[], file: string): Verification {
  let envelope: Envelope;
  let payload: Buffer;
  let statement: unknown;
  try {
    envelope = JSON.parse(text.trim().split("\n")[0] ?? "") as Envelope;
    if (envelope.payloadType !== IN_TOTO_PAYLOAD || !Array.isArray(envelope.signatures)) throw new Error("not DSSE");
    payload = Buffer.from(envelope.payload, "base64");
    statement = JSON.parse(payload.toString("utf8"));
  } catch (error) {
    throw new DeployError(
      `${file} is not a signed in-toto envelope (${(error as Error).message})`,
      ExitCode.failed,
      "copy it again from where the archive was published",
    );
  }
  const message = pae(envelope.payloadType, payload);
  for (const signature of envelope.signatures) {
    const sig = Buffer.from(String(signature.sig ?? ""), "base64");
    for (const key of keys) {
      if (verifyBytes(null, message, key.publicKey, sig)) return { kind: "trusted", statement, key };
    }
  }
  return { kind: "untrusted", statement, keyids: envelope.signatures.map((s) => String(s.keyid)) };
}
