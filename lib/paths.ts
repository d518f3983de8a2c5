/** Where things live in the repository, computed once from this file's place in it. */
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "..");
export const K8S_DIR = join(REPO_ROOT, "k8s");
export const CHARTS_DIR = join(REPO_ROOT, "charts");
export const COMPOSE_FILE = join(REPO_ROOT, "compose.yaml");
export const DOCKERFILE = join(REPO_ROOT, "Dockerfile");
/** History and deploy locks, per project, unless --state_dir or TIMEKIT_STATE_DIR says otherwise. */
export const DEFAULT_STATE_DIR = join(REPO_ROOT, ".state");
/** Pinned helm and kubectl, unless TIMEKIT_TOOLS_DIR says otherwise; not committed. */
export const DEFAULT_TOOLS_DIR = join(REPO_ROOT, ".cache", "tools");
