/** Pure helpers: summaries of repeated measurements, paired ratios and goal checks. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
  values: number[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  // biome-ignore lint/style/noNonNullAssertion: indexes are within a non-empty array
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  const finite = values.filter((v) => Number.isFinite(v));
  return {
    median: median(finite),
    min: finite.length ? Math.min(...finite) : Number.NaN,
    max: finite.length ? Math.max(...finite) : Number.NaN,
    n: finite.length,
    values: [...values],
  };
}

/**
 * Ratios of two series measured in the same rounds (round i of `a` against round i of `b`):
 * pairing cancels most of the drift that other tenants add between rounds.
 */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.min(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y) || y === 0) continue;
    out.push(x / y);
  }
  return out;
}

export type Comparison = ">=" | "<=";

export interface Goal {
  id: string;
  description: string;
  /** The measured figure (a median), or null when it could not be measured. */
  actual: number | null;
  comparison: Comparison;
  target: number;
  unit: string;
  /** Why a figure is missing, or what explains a miss. */
  note?: string;
}

export type GoalStatus = "met" | "missed" | "not measured";

export interface GoalResult extends Goal {
  status: GoalStatus;
  /**
   * How far from the target, relative to it: positive is headroom, negative is the shortfall
   * (0.1 = 10% better than needed, -0.2 = 20% short).
   */
  margin: number | null;
}

export function evaluateGoal(goal: Goal): GoalResult {
  if (goal.actual === null || !Number.isFinite(goal.actual)) {
    return { ...goal, actual: null, status: "not measured", margin: null };
  }
  const met = goal.comparison === ">=" ? goal.actual >= goal.target : goal.actual <= goal.target;
  const margin =
    goal.target === 0
      ? null
      : goal.comparison === ">="
        ? (goal.actual - goal.target) / goal.target
        : (goal.target - goal.actual) / goal.target;
  return { ...goal, status: met ? "met" : "missed", margin };
}
