/**
 * Archive trust without Docker (lib/images/signing.ts, provenance.ts, archive.ts): keys, DSSE
 * envelopes, the provenance statement, and the checks `up --from_archive` makes before it loads
 * anything: unsigned and untrusted archives are refused with exit 2 and the fix, a tampered
 * archive whose checksum file was recomputed with exit 1, whatever the flags.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { DeployError, ExitCode } from "../../lib/errors";
import { archiveKnownGood, verifiedArchive } from "../../lib/images/archive";
import { archivePaths, knownGoodRecord } from "../../lib/images/archive-paths";
import {
  archiveProblems,
  builderId,
  knownGoodStatement,
  knownGoodVersion,
  provenanceStatement,
  SLSA_PROVENANCE,
} from "../../lib/images/provenance";
import {
  keyId,
  newKeyPair,
  pae,
  signingKey,
  signingKeyFromPem,
  signStatement,
  trustedKeys,
  verifyEnvelope,
} from "../../lib/images/signing";

const work = mkdtempSync(join(tmpdir(), "timekit-signing-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let dirs = 0;
const dir = (name: string) => {
  const d = join(work, `${++dirs}-${name}`);
  mkdirSync(d, { recursive: true });
  return d;
};

const publisher = newKeyPair();
const stranger = newKeyPair();
const trusted = dir("trusted");
writeFileSync(join(trusted, "publisher.pub"), publisher.publicKeyPem);
const key = signingKeyFromPem(publisher.privateKeyPem, "publisher.pem");
const sha256Hex = (data: string | Uint8Array) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

/** Publishes a fake archive of service2 `version` into a new directory, signed by `signer`. */
function published(version: string, signer = key, service = "service2") {
  const at = dir("archives");
  const paths = archivePaths(at, service, version);
  const bytes = `pretend this is ${service} ${version}`;
  writeFileSync(paths.archive, bytes);
  writeFileSync(paths.checksum, `${sha256Hex(bytes)}  ${basename(paths.archive)}\n`);
  const statement = provenanceStatement({
    service,
    version,
    commit: "0123456789abcdef0123456789abcdef01234567",
    sourceUrl: "https://github.com/example/timekit",
    imageId: `sha256:${"a".repeat(64)}`,
    sbomDigest: `sha256:${"b".repeat(64)}`,
    subjects: [{ name: basename(paths.archive), digest: `sha256:${sha256Hex(bytes)}` }],
    env: {},
  });
  writeFileSync(paths.provenance, `${JSON.stringify(signStatement(statement, signer))}\n`);
  return { at, paths, bytes };
}

const notes: string[] = [];
const note = (line: string) => notes.push(line);
const trust = (allowUntrusted = false) => ({ keyDirs: [trusted], allowUntrusted });

async function refusal(promise: Promise<unknown>): Promise<DeployError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DeployError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("keys and envelopes", () => {
  test("a key's id is the sha256 of its public key, wherever it is stored", () => {
    const loaded = trustedKeys([trusted]);
    expect(loaded.map((k) => k.keyid)).toEqual([publisher.keyid]);
    expect(key.keyid).toBe(publisher.keyid);
    expect(publisher.keyid).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(keyId(loaded[0]?.publicKey as never)).toBe(publisher.keyid);
  });

  test("DSSE signs the pre-authentication encoding; ed25519 gives the same envelope twice", () => {
    expect(pae("application/vnd.in-toto+json", Buffer.from("{}")).toString()).toBe(
      "DSSEv1 28 application/vnd.in-toto+json 2 {}",
    );
    const statement = { _type: "x", subject: [] };
    expect(signStatement(statement, key)).toEqual(signStatement(statement, key));
  });

  test("verification: the trusted key verifies; another key, or a changed payload, does not", () => {
    const envelope = signStatement({ hello: "world" }, key);
    const keys = trustedKeys([trusted]);
    expect(verifyEnvelope(JSON.stringify(envelope), keys, "f").kind).toBe("trusted");
    const other = signStatement({ hello: "world" }, signingKeyFromPem(stranger.privateKeyPem, "stranger"));
    expect(verifyEnvelope(JSON.stringify(other), keys, "f")).toMatchObject({
      kind: "untrusted",
      keyids: [stranger.keyid],
    });
    const changed = { ...envelope, payload: Buffer.from(JSON.stringify({ hello: "there" })).toString("base64") };
    expect(verifyEnvelope(JSON.stringify(changed), keys, "f").kind).toBe("untrusted");
    expect(() => verifyEnvelope("not json", keys, "bad.intoto.jsonl")).toThrow(
      "bad.intoto.jsonl is not a signed in-toto envelope",
    );
  });

  test("the signing key: a file first, then TIMEKIT_SIGNING_KEY, else this machine's key, made once and trusted", () => {
    const state = dir("state");
    const file = join(dir("keyfile"), "ci.pem");
    writeFileSync(file, stranger.privateKeyPem);
    expect(
      signingKey({ file, stateBase: state, env: { TIMEKIT_SIGNING_KEY: publisher.privateKeyPem } }, note).keyid,
    ).toBe(stranger.keyid);
    expect(signingKey({ stateBase: state, env: { TIMEKIT_SIGNING_KEY: publisher.privateKeyPem } }, note).keyid).toBe(
      publisher.keyid,
    );
    const made: string[] = [];
    const local = signingKey({ stateBase: state, env: {} }, (line) => made.push(line));
    expect(made).toHaveLength(1);
    expect(made[0]).toContain("created this machine's signing key");
    expect(statSync(join(state, "keys", "archive-signing.pem")).mode & 0o777).toBe(0o600);
    expect(trustedKeys([join(state, "trusted-keys")]).map((k) => k.keyid)).toEqual([local.keyid]);
    expect(signingKey({ stateBase: state, env: {} }, (line) => made.push(line)).keyid).toBe(local.keyid);
    expect(made).toHaveLength(1);
  });

  test("a key that is not ed25519, or not a key, is a usage error naming it", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" });
    expect(() => signingKeyFromPem(rsa.toString(), "rsa.pem")).toThrow(
      "rsa.pem is a rsa key; archives are signed with ed25519",
    );
    try {
      signingKeyFromPem("hello", "TIMEKIT_SIGNING_KEY");
      throw new Error("accepted");
    } catch (error) {
      expect((error as DeployError).message).toContain("TIMEKIT_SIGNING_KEY is not a PEM private key");
      expect((error as DeployError).exitCode).toBe(ExitCode.usage);
    }
  });
});

describe("the provenance statement", () => {
  test("names each subject by sha256, the service and version, the commit and the builder", () => {
    const statement = provenanceStatement({
      service: "service1",
      version: "1.2.3",
      commit: "0123456789abcdef0123456789abcdef01234567",
      sourceUrl: "https://github.com/example/timekit",
      imageId: "sha256:11",
      sbomDigest: "sha256:22",
      subjects: [
        { name: "service1-1.2.3.tar.gz", digest: "sha256:33" },
        { name: "ghcr.io/example/service1", digest: "sha256:44" },
      ],
      env: {
        GITHUB_SERVER_URL: "https://github.com",
        GITHUB_WORKFLOW_REF: "example/timekit/.github/workflows/release.yml@refs/heads/main",
      },
    });
    expect(statement.predicateType).toBe(SLSA_PROVENANCE);
    expect(statement.subject).toEqual([
      { name: "service1-1.2.3.tar.gz", digest: { sha256: "33" } },
      { name: "ghcr.io/example/service1", digest: { sha256: "44" } },
    ]);
    expect(statement.predicate).toMatchObject({
      buildDefinition: {
        externalParameters: { service: "service1", version: "1.2.3" },
        resolvedDependencies: [
          {
            uri: "git+https://github.com/example/timekit",
            digest: { gitCommit: "0123456789abcdef0123456789abcdef01234567" },
          },
        ],
      },
      runDetails: {
        builder: { id: "https://github.com/example/timekit/.github/workflows/release.yml@refs/heads/main" },
      },
    });
    expect(builderId({})).toBe("urn:timekit:builder:local");
  });

  test("archiveProblems names each mismatch", () => {
    const { paths, bytes } = published("1.4.0");
    const statement = JSON.parse(
      Buffer.from(JSON.parse(readFileSync(paths.provenance, "utf8")).payload, "base64").toString(),
    );
    const file = basename(paths.archive);
    expect(
      archiveProblems(statement, { service: "service2", version: "1.4.0", file, sha256: sha256Hex(bytes) }),
    ).toEqual([]);
    expect(
      archiveProblems(statement, { service: "service1", version: "1.4.0", file, sha256: sha256Hex(bytes) }),
    ).toEqual(["it is for service2 1.4.0, not service1 1.4.0"]);
    expect(archiveProblems(statement, { service: "service2", version: "1.4.0", file, sha256: "00" })).toEqual([
      `it signs ${file} with sha256 ${sha256Hex(bytes)}, but the file has 00`,
    ]);
    expect(archiveProblems({ hello: 1 }, { service: "service2", version: "1.4.0", file, sha256: "00" })).toEqual([
      "it is not a SLSA provenance statement",
    ]);
  });
});

describe("verifiedArchive: what up --from_archive checks before loading anything", () => {
  test("an archive a trusted key signed passes", async () => {
    const { at, paths, bytes } = published("1.4.0");
    expect(await verifiedArchive(at, "service2", "1.4.0", trust(), note)).toEqual({
      file: paths.archive,
      sha256: sha256Hex(bytes),
    });
  });

  test("unsigned: exit 2 with the fix; with --allow_untrusted_archive it passes, said in a note", async () => {
    const { at, paths } = published("1.4.0");
    rmSync(paths.provenance);
    const error = await refusal(verifiedArchive(at, "service2", "1.4.0", trust(), note));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe(`${paths.archive} is not signed: there is no service2-1.4.0.intoto.jsonl beside it`);
    expect(error.fix).toContain("copy the .intoto.jsonl published with it");
    expect(error.fix).toContain("--allow_untrusted_archive");
    const before = notes.length;
    expect((await verifiedArchive(at, "service2", "1.4.0", trust(true), note)).file).toBe(paths.archive);
    expect(notes.slice(before)).toEqual([
      "service2-1.4.0.tar.gz: unsigned; deploying anyway (--allow_untrusted_archive)",
    ]);
  });

  test("signed by a key nobody trusts: exit 2 naming the key and where trusted keys go", async () => {
    const { at } = published("1.4.0", signingKeyFromPem(stranger.privateKeyPem, "stranger"));
    const error = await refusal(verifiedArchive(at, "service2", "1.4.0", trust(), note));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toContain(`is signed by ${stranger.keyid}, which no trusted key matches`);
    expect(error.fix).toContain(`put the publisher's public key (*.pub) into ${trusted}`);
  });

  test("tampered, and its checksum file recomputed: refused with exit 1, even when untrusted archives are allowed", async () => {
    const { at, paths } = published("1.4.0");
    const forged = "pretend this is service2 1.0.0 with a backdoor";
    writeFileSync(paths.archive, forged);
    writeFileSync(paths.checksum, `${sha256Hex(forged)}  ${basename(paths.archive)}\n`);
    for (const allow of [false, true]) {
      const error = await refusal(verifiedArchive(at, "service2", "1.4.0", trust(allow), note));
      expect(error.exitCode).toBe(ExitCode.failed);
      expect(error.message).toContain(
        "does not match its signed provenance: it signs service2-1.4.0.tar.gz with sha256",
      );
      expect(error.fix).toContain("the archive was changed after it was signed");
    }
  });

  test("a signed archive renamed to another version is refused: the signature names the version", async () => {
    const { at, paths } = published("1.4.0");
    const renamed = archivePaths(at, "service2", "1.5.0");
    for (const [from, to] of [
      [paths.archive, renamed.archive],
      [paths.provenance, renamed.provenance],
    ] as const)
      writeFileSync(to, readFileSync(from));
    const error = await refusal(verifiedArchive(at, "service2", "1.5.0", trust(), note));
    expect(error.message).toContain("it is for service2 1.4.0, not service2 1.5.0");
    expect(error.message).toContain("it names no subject service2-1.5.0.tar.gz");
  });

  test("a corrupt archive still fails its checksum first, as before signatures", async () => {
    const { at, paths } = published("1.4.0");
    writeFileSync(paths.archive, "bit rot");
    const error = await refusal(verifiedArchive(at, "service2", "1.4.0", trust(), note));
    expect(error.message).toContain(`checksum mismatch for ${paths.archive}`);
  });
});

describe("the archive channel's known-good record", () => {
  test("names the promoted version by its archive; a record for another service, or unsigned, is refused", async () => {
    const { at, paths, bytes } = published("1.4.0");
    const statement = knownGoodStatement("service2", "1.4.0", {
      name: basename(paths.archive),
      digest: { sha256: sha256Hex(bytes) },
    });
    writeFileSync(knownGoodRecord(at, "service2"), `${JSON.stringify(signStatement(statement, key))}\n`);
    expect(archiveKnownGood(at, "service2", trust(), note)).toBe("1.4.0");
    expect(knownGoodVersion(statement, "service1")).toBe("it is for service2, not service1");
    writeFileSync(knownGoodRecord(at, "service1"), `${JSON.stringify(signStatement(statement, key))}\n`);
    expect(() => archiveKnownGood(at, "service1", trust(), note)).toThrow("is not service1's known-good record");
    const stranger_ = signingKeyFromPem(stranger.privateKeyPem, "stranger");
    writeFileSync(knownGoodRecord(at, "service2"), `${JSON.stringify(signStatement(statement, stranger_))}\n`);
    expect(() => archiveKnownGood(at, "service2", trust(), note)).toThrow("which no trusted key matches");
    expect(() => archiveKnownGood(dir("empty"), "service2", trust(), note)).toThrow(
      "has no known-good record for service2",
    );
  });
});

describe("scripts/release/signing-key.ts", () => {
  const script = join(import.meta.dir, "..", "..", "scripts", "release", "signing-key.ts");
  const make = (...args: string[]) =>
    Bun.spawnSync([process.execPath, script, ...args], { stdout: "pipe", stderr: "pipe" });

  test("writes a private key only its owner reads and the public half; never overwrites", () => {
    const out = dir("keygen");
    const made = make(`--out=${out}`);
    expect(made.exitCode).toBe(0);
    const pem = readFileSync(join(out, "ci.pem"), "utf8");
    expect(statSync(join(out, "ci.pem")).mode & 0o777).toBe(0o600);
    writeFileSync(join(dir("keygen-trust"), "ci.pub"), readFileSync(join(out, "ci.pub")));
    const signer = signingKeyFromPem(pem, "ci.pem");
    expect(made.stdout.toString()).toContain(`key id ${signer.keyid}`);
    const again = make(`--out=${out}`);
    expect(again.exitCode).toBe(1);
    expect(again.stderr.toString()).toContain("exists; not overwriting a key");
    expect(readFileSync(join(out, "ci.pem"), "utf8")).toBe(pem);
  });

  test("usage errors exit 2", () => {
    expect(make().exitCode).toBe(2);
    expect(make("--out=/tmp/x", "--name=../evil").stderr.toString()).toContain("must be letters, digits");
    expect(make("--bogus").exitCode).toBe(2);
  });
});
