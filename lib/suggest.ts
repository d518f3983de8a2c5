/**
 * The one "did you mean" of the delivery code: unknown flags, commands, choices and manifest
 * fields all get their suggestion here.
 */

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The candidate `input` most likely meant: the closest spelling within a third of its length (at
 * least 2 edits), or one it abbreviates (3 characters or more). Both sides are compared after
 * `normalise` (default: lower case). Undefined when nothing is close enough.
 */
export function closest(
  input: string,
  candidates: readonly string[],
  normalise: (text: string) => string = (text) => text.toLowerCase(),
): string | undefined {
  const wanted = normalise(input);
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const key = normalise(candidate);
    const distance = wanted.length >= 3 && key.startsWith(wanted) ? 0 : editDistance(wanted, key);
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  const tolerance = Math.max(2, Math.floor(wanted.length / 3));
  return best && best.distance <= tolerance ? best.candidate : undefined;
}
