/**
 * What `publish` says about a release, as an in-toto v1 statement with a SLSA v1 provenance
 * predicate (https://slsa.dev/provenance/v1): its subjects are the archive file and the image
 * manifest pushed to the registry, by sha256; the build is the service, version and commit.
 * Signed (lib/images/signing.ts), the statement is also the archive's signature: `up
 * --from_archive` checks that a trusted key signed it and that its subject is the archive.
 *
 * Nothing in it depends on the clock or the run: publishing the same image again writes the
 * same bytes, so a re-run republishes nothing new. When and where a GitHub run built it is in
 * GitHub's own attestation (actions/attest-build-provenance), made beside this one.
 */
import semver from "semver";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const SLSA_PROVENANCE = "https://slsa.dev/provenance/v1";
/** This project's build, described in docs/pipeline.md. */
export const BUILD_TYPE = "urn:timekit:build:v1";
/** A signed statement that an archive is the archive channel's known-good version. */
export const KNOWN_GOOD_PREDICATE = "urn:timekit:known-good:v1";
const LOCAL_BUILDER = "urn:timekit:builder:local";

export interface Subject {
  name: string;
  digest: { sha256: string };
}

export interface Statement {
  _type: string;
  subject: Subject[];
  predicateType: string;
  predicate: Record<string, unknown>;
}

export interface ProvenanceInput {
  service: string;
  version: string;
  /** Full commit SHA where known, else what the image's revision label says. */
  commit: string;
  sourceUrl: string;
  /** The image id (config digest) and the SBOM digest, both `sha256:…`. */
  imageId: string;
  sbomDigest: string | null;
  subjects: Array<{ name: string; digest: string }>;
  env: Readonly<Record<string, string | undefined>>;
}

const bare = (digest: string) => digest.replace(/^sha256:/, "");

/** The workflow that ran the build on GitHub (GITHUB_WORKFLOW_REF), else this project's local builder. */
export function builderId(env: Readonly<Record<string, string | undefined>>): string {
  if (env.GITHUB_WORKFLOW_REF) return `${env.GITHUB_SERVER_URL || "https://github.com"}/${env.GITHUB_WORKFLOW_REF}`;
  return LOCAL_BUILDER;
}

export function provenanceStatement(input: ProvenanceInput): Statement {
  const source = input.sourceUrl ? `git+${input.sourceUrl}` : "git+unknown";
  return {
    _type: STATEMENT_TYPE,
    subject: input.subjects.map((s) => ({ name: s.name, digest: { sha256: bare(s.digest) } })),
    predicateType: SLSA_PROVENANCE,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: { service: input.service, version: input.version },
        internalParameters: {
          imageId: input.imageId,
          ...(input.sbomDigest ? { sbomDigest: input.sbomDigest } : {}),
        },
        resolvedDependencies: [{ uri: source, digest: { gitCommit: input.commit } }],
      },
      runDetails: { builder: { id: builderId(input.env) } },
    },
  };
}

/** The archive channel's known-good record: `version`'s archive, by name and sha256. */
export function knownGoodStatement(service: string, version: string, archive: Subject): Statement {
  return {
    _type: STATEMENT_TYPE,
    subject: [archive],
    predicateType: KNOWN_GOOD_PREDICATE,
    predicate: { service, version },
  };
}

function isStatement(value: unknown): value is Statement {
  const s = value as Statement;
  return (
    typeof s === "object" &&
    s !== null &&
    s._type === STATEMENT_TYPE &&
    Array.isArray(s.subject) &&
    typeof s.predicateType === "string" &&
    typeof s.predicate === "object"
  );
}

/**
 * What is wrong with `value` as the signed provenance of `service` `version` whose archive is
 * `file` with `sha256` (hex); empty when it matches.
 */
export function archiveProblems(
  value: unknown,
  expected: { service: string; version: string; file: string; sha256: string },
): string[] {
  if (!isStatement(value) || value.predicateType !== SLSA_PROVENANCE) return ["it is not a SLSA provenance statement"];
  const problems: string[] = [];
  const params = (value.predicate.buildDefinition as { externalParameters?: Record<string, unknown> } | undefined)
    ?.externalParameters;
  if (params?.service !== expected.service || params?.version !== expected.version) {
    problems.push(
      `it is for ${String(params?.service)} ${String(params?.version)}, not ${expected.service} ${expected.version}`,
    );
  }
  const subject = value.subject.find((s) => s.name === expected.file);
  if (!subject) problems.push(`it names no subject ${expected.file}`);
  else if (subject.digest?.sha256 !== expected.sha256) {
    problems.push(
      `it signs ${expected.file} with sha256 ${subject.digest?.sha256}, but the file has ${expected.sha256}`,
    );
  }
  return problems;
}

/** The version a signed known-good record names for `service`, or the problem with it. */
export function knownGoodVersion(value: unknown, service: string): { version: string; archive: Subject } | string {
  if (!isStatement(value) || value.predicateType !== KNOWN_GOOD_PREDICATE) return "it is not a known-good record";
  const { service: named, version } = value.predicate as { service?: unknown; version?: unknown };
  if (named !== service) return `it is for ${String(named)}, not ${service}`;
  if (typeof version !== "string" || semver.valid(version) !== version)
    return `it names no version (${String(version)})`;
  const [archive] = value.subject;
  if (!archive) return "it names no archive";
  return { version, archive };
}
