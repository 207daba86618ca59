/** The ISO time `seconds` after `now`: when a rollout started now counts as timed out. */
export function deadlineAfter(now: Date, seconds: number): string {
  return new Date(now.getTime() + seconds * 1000).toISOString();
}
