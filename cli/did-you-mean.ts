/**
 * "Did you mean" for what a person typed: a command, a flag, a scenario or an environment name. Only
 * close matches are suggested (a wrong suggestion is worse than none).
 */

/** Levenshtein distance, with a swap of two neighbouring letters counted as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The one candidate `typed` is the beginning of; else the candidates nearest to `typed`, if they are
 * close: at most a third of its length away (min 1, max 3).
 */
export function closestMatches(typed: string, candidates: readonly string[]): string[] {
  const needle = typed.toLowerCase();
  // A word cut short is meant as the word it begins (`stat` is `status`, not `start`).
  const completions = candidates.filter((candidate) => candidate.toLowerCase().startsWith(needle));
  if (needle.length >= 3 && completions.length === 1) return completions;
  const limit = Math.min(3, Math.max(1, Math.floor(needle.length / 3)));
  const scored = candidates
    .map((candidate) => ({ candidate, distance: editDistance(needle, candidate.toLowerCase()) }))
    .filter(({ distance }) => distance <= limit);
  const best = Math.min(...scored.map(({ distance }) => distance));
  return scored.filter(({ distance }) => distance === best).map(({ candidate }) => candidate);
}

/** ` Did you mean 'x'?` (or `'x' or 'y'`), or '' when nothing is close. `show` spells a candidate. */
export function didYouMean(
  typed: string,
  candidates: readonly string[],
  show: (candidate: string) => string = (candidate) => candidate,
): string {
  const matches = closestMatches(typed, candidates);
  if (matches.length === 0) return '';
  return ` Did you mean ${matches.map((match) => `'${show(match)}'`).join(' or ')}?`;
}
