/** The shape of bench/results/latest.json. */
import type { ColdStartResult } from "./coldstart";
import type { DeployResult } from "./deploys";
import type { ImageSizeResult } from "./images";
import type { GoalResult, Summary } from "./stats";
import type { ThroughputResult } from "./throughput";

export const SECTIONS = ["throughput", "coldstart", "images", "deploy"] as const;
export type Section = (typeof SECTIONS)[number];

export interface MachineInfo {
  cores: number;
  model: string;
  kernel: string;
  bun: string;
  node: string | null;
  docker: string | null;
  date: string;
  hostname: string;
}

export interface BenchResults {
  schema: 1;
  machine: MachineInfo;
  mode: "full" | "quick";
  /** Sections this file holds figures for; with --only, the others come from the previous run. */
  sections: Partial<Record<Section, { measuredAt: string; mode: "full" | "quick" }>>;
  throughput?: ThroughputResult;
  coldStart?: ColdStartResult;
  images?: ImageSizeResult;
  deploy?: DeployResult;
  /** Why a section has no figures (skipped, or failed with this error). */
  notMeasured: Partial<Record<Section, string>>;
  ratios: Record<string, { description: string } & Summary>;
  goals: GoalResult[];
}
