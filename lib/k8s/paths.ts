/** Where the Kubernetes files live in the repository. */
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "../..");
export const K8S_DIR = join(REPO_ROOT, "k8s");
export const CHARTS_DIR = join(REPO_ROOT, "charts");
