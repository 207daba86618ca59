/**
 * The infrastructure stacks of an environment as a dependency graph: checking the graph the
 * configuration gives (every dependency known, no stack twice, no cycle), and turning a request's
 * stacks into the order an infrastructure release deploys them in. Pure.
 */

/** What the graph needs of a configured stack. */
export interface StackNode {
  readonly name: string;
  readonly dependsOn: readonly string[];
  readonly optional: boolean;
}

/**
 * Every problem of a configured graph, one sentence each, echoing what was received: a stack named
 * twice, a dependency on a stack the list does not have, a stack depending on itself, a cycle.
 */
export function stackGraphProblems(stacks: readonly StackNode[]): string[] {
  const problems: string[] = [];
  const names = stacks.map((stack) => stack.name);
  const repeated = [...new Set(names.filter((name, index) => names.indexOf(name) !== index))];
  for (const name of repeated) {
    problems.push(`expected each stack once, received "${name}" more than once`);
  }
  for (const stack of stacks) {
    for (const dependency of stack.dependsOn) {
      if (dependency === stack.name) {
        problems.push(
          `expected a stack not to depend on itself, received "${stack.name}" in its own dependsOn`,
        );
      } else if (!names.includes(dependency)) {
        problems.push(
          `expected "${stack.name}" to depend only on listed stacks (${names.map((name) => `"${name}"`).join(', ')}), ` +
            `received "${dependency}"`,
        );
      }
    }
  }
  if (problems.length > 0) return problems;
  const cycle = findCycle(stacks);
  if (cycle) {
    problems.push(`expected no dependency cycle, received ${cycle.map((name) => `"${name}"`).join(' → ')}`);
  }
  return problems;
}

/** One cycle of the graph as a path that ends where it starts, or undefined when there is none. */
function findCycle(stacks: readonly StackNode[]): string[] | undefined {
  const byName = new Map(stacks.map((stack) => [stack.name, stack]));
  const done = new Set<string>();
  const visit = (name: string, path: readonly string[]): string[] | undefined => {
    const start = path.indexOf(name);
    if (start >= 0) return [...path.slice(start), name];
    if (done.has(name)) return undefined;
    for (const dependency of byName.get(name)?.dependsOn ?? []) {
      const cycle = visit(dependency, [...path, name]);
      if (cycle) return cycle;
    }
    done.add(name);
    return undefined;
  };
  for (const stack of stacks) {
    const cycle = visit(stack.name, []);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * The stacks a request names, in dependency order: a stack comes after every requested stack it
 * depends on (directly or through stacks not requested); ties keep the configuration's order, so the
 * order is the same on every run. `all` means every stack that is not optional. Unknown names are the
 * caller's to refuse first (`unknownStacks`). The graph must have passed `stackGraphProblems`.
 */
export function releaseOrder(
  configured: readonly StackNode[],
  requested: readonly string[] | 'all',
): string[] {
  const wanted = new Set(
    requested === 'all'
      ? configured.filter((stack) => !stack.optional).map((stack) => stack.name)
      : requested,
  );
  const byName = new Map(configured.map((stack) => [stack.name, stack]));
  const ancestors = (name: string, seen = new Set<string>()): Set<string> => {
    for (const dependency of byName.get(name)?.dependsOn ?? []) {
      if (seen.has(dependency)) continue;
      seen.add(dependency);
      ancestors(dependency, seen);
    }
    return seen;
  };
  const placed: string[] = [];
  const pending = configured.filter((stack) => wanted.has(stack.name)).map((stack) => stack.name);
  while (pending.length > 0) {
    const index = pending.findIndex((name) =>
      [...ancestors(name)].every((ancestor) => !wanted.has(ancestor) || placed.includes(ancestor)),
    );
    placed.push(pending.splice(index, 1)[0]!);
  }
  return placed;
}

/** The requested names the configuration does not list. */
export function unknownStacks(configured: readonly StackNode[], requested: readonly string[]): string[] {
  const names = new Set(configured.map((stack) => stack.name));
  return requested.filter((name) => !names.has(name));
}

/** What became of one stack of a release, for the notification and the rehearsal's report. */
export type StackFate = 'deployed' | 'failed' | 'not-approved' | 'not-attempted';

/**
 * Where a release that stopped at `stoppedAt` (an index into its ordered stacks) left each stack:
 * the ones before it deployed, it failed (or its approval was denied or expired), the ones after it were not
 * attempted (each depends on it or comes after it: the release stops at the first failure). A
 * release that did not stop (`stoppedAt` = the number of stacks) deployed every one.
 */
export function stackFates(
  ordered: readonly string[],
  stoppedAt: number,
  stoppedBecause: 'failed' | 'not-approved',
): { readonly name: string; readonly fate: StackFate }[] {
  return ordered.map((name, index) => ({
    name,
    fate: index < stoppedAt ? 'deployed' : index === stoppedAt ? stoppedBecause : 'not-attempted',
  }));
}
