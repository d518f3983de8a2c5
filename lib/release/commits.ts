/**
 * Conventional-commit parsing and the bump each commit asks for.
 *
 * Rules (those of semantic-release's default commit analyzer):
 * - a breaking change (`type!:` / `type(scope)!:` header, or a `BREAKING CHANGE:` /
 *   `BREAKING-CHANGE:` footer) → major
 * - `feat` → minor
 * - `fix`, `perf`, and reverts → patch
 * - anything else (chore, docs, ci, test, refactor, build, style, non-conventional) → no release
 */
import { type Commit, CommitParser, type ParserOptions } from "conventional-commits-parser";

export type Bump = "major" | "minor" | "patch";

export interface ConventionalCommit {
  hash: string;
  header: string;
  /** Lower-cased conventional type, or null when the header is not conventional. */
  type: string | null;
  scope: string | null;
  /** The description after `type(scope): `, or the whole header when it is not conventional. */
  subject: string;
  breaking: boolean;
  revert: boolean;
}

/**
 * conventional-commits-parser v7's defaults do not understand `!` in the header; these patterns
 * are the Conventional Commits 1.0 grammar (as in conventional-changelog-conventionalcommits).
 */
const PARSER_OPTIONS: ParserOptions = {
  headerPattern: /^(\w*)(?:\((.*)\))?!?: (.*)$/,
  breakingHeaderPattern: /^(\w*)(?:\((.*)\))?!: (.*)$/,
  headerCorrespondence: ["type", "scope", "subject"],
  noteKeywords: ["BREAKING CHANGE", "BREAKING-CHANGE"],
  revertPattern: /^(?:Revert|revert:)\s"?([\s\S]+?)"?\s*This reverts commit (\w+)\./i,
  revertCorrespondence: ["header", "hash"],
};

const parser = new CommitParser(PARSER_OPTIONS);

const PATCH_TYPES = new Set(["fix", "perf"]);

function isBreaking(parsed: Commit): boolean {
  return parsed.notes.some((note) => /^BREAKING[ -]CHANGE$/i.test(note.title));
}

export function parseCommitMessage(hash: string, message: string): ConventionalCommit {
  const trimmed = message.trim();
  const header = trimmed.split("\n", 1)[0] ?? "";
  if (!trimmed) return { hash, header, type: null, scope: null, subject: header, breaking: false, revert: false };
  const parsed = parser.parse(trimmed);
  const type = typeof parsed.type === "string" && parsed.type ? parsed.type.toLowerCase() : null;
  const scope = typeof parsed.scope === "string" && parsed.scope ? parsed.scope : null;
  return {
    hash,
    header,
    type,
    scope,
    subject: type !== null && typeof parsed.subject === "string" && parsed.subject ? parsed.subject : header,
    breaking: type !== null && isBreaking(parsed),
    revert: parsed.revert !== null || type === "revert",
  };
}

export function bumpFor(commit: ConventionalCommit): Bump | null {
  if (commit.breaking) return "major";
  if (commit.type === "feat") return "minor";
  if ((commit.type !== null && PATCH_TYPES.has(commit.type)) || commit.revert) return "patch";
  return null;
}

const BUMP_RANK: Record<Bump, number> = { patch: 1, minor: 2, major: 3 };

export function strongestBump(bumps: Iterable<Bump | null>): Bump | null {
  let strongest: Bump | null = null;
  for (const bump of bumps) {
    if (bump && (!strongest || BUMP_RANK[bump] > BUMP_RANK[strongest])) strongest = bump;
  }
  return strongest;
}
