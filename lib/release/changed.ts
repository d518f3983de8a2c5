/**
 * Which services a change touches, for CI: from the files changed between two commits, or, for
 * the release workflow, from what each service has not released yet.
 */

import { SERVICES, type ServiceName } from "../services";
import { commitExists, git } from "./git";
import { fileBelongsTo, type PathPurpose } from "./services";
import { planRelease } from "./version";

export interface ChangedServices {
  services: ServiceName[];
  /** Why the list is what it is, for logs. */
  reason: string;
  files: string[];
}

/** The services any of `files` belongs to, in SERVICES order. */
export function servicesTouchedBy(files: readonly string[], purpose: PathPurpose): ServiceName[] {
  return SERVICES.filter((service) => files.some((file) => fileBelongsTo(service, file, purpose)));
}

/** Files changed on `head` since it forked from `base` (`git diff base...head`), renames as both paths. */
export async function changedFiles(repoDir: string, base: string, head: string): Promise<string[]> {
  const out = await git(repoDir, ["diff", "--name-only", "--no-renames", "-z", `${base}...${head}`, "--"]);
  return out.split("\0").filter(Boolean);
}

const NO_COMMIT = /^0+$/;

/**
 * Services to verify for the change `base...head`. When the base is unknown (a new branch's
 * all-zero "before", a force-push that dropped it, a shallow clone) every service counts as
 * changed: running too much is safe, skipping a changed service is not.
 */
export async function detectChangedServices(repoDir: string, base: string, head: string): Promise<ChangedServices> {
  if (!(await commitExists(repoDir, head))) throw new Error(`head ${JSON.stringify(head)} is not a commit here`);
  if (!base || NO_COMMIT.test(base) || !(await commitExists(repoDir, base))) {
    return { services: [...SERVICES], reason: `base ${JSON.stringify(base)} unavailable: every service`, files: [] };
  }
  const files = await changedFiles(repoDir, base, head);
  const services = servicesTouchedBy(files, "ci");
  const reason = `${files.length} file(s) changed in ${base.slice(0, 12)}...${head.slice(0, 12)}`;
  return { services, reason, files };
}

/** Services whose commits since their last release tag warrant a new version. */
export async function servicesPendingRelease(repoDir: string, ref = "HEAD"): Promise<ChangedServices> {
  const plans = await Promise.all(SERVICES.map((service) => planRelease(repoDir, service, ref)));
  const pending = plans.filter((plan) => plan.next !== null);
  const reason =
    plans.map((plan) => `${plan.service} ${plan.current} -> ${plan.next?.version ?? "no release"}`).join(", ") ||
    "no services";
  return { services: pending.map((plan) => plan.service), reason, files: [] };
}

/** Lines for `$GITHUB_OUTPUT`: `services` (JSON list for a matrix), `any`, and one flag per service. */
export function githubOutputLines(changed: ChangedServices): string[] {
  return [
    `services=${JSON.stringify(changed.services)}`,
    `any=${changed.services.length > 0}`,
    ...SERVICES.map((service) => `${service}=${changed.services.includes(service)}`),
  ];
}
