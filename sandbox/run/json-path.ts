/**
 * The one JSONPath form the runner itself evaluates: a reference path of plain field names
 * (`$.request.safetyNetPollSeconds`), as an ASL `TimeoutSecondsPath` uses. Anything richer is
 * refused loudly rather than guessed.
 */
const referencePath = /^\$(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function readReferencePath(path: string, data: unknown): unknown {
  if (!referencePath.test(path)) {
    throw new Error(
      `The sandbox reads only plain reference paths like $.request.safetyNetPollSeconds. Received: ${path}. ` +
        'Use a reference path in the ASL field the sandbox evaluates (TimeoutSecondsPath).',
    );
  }
  let value: unknown = data;
  for (const field of path.split('.').slice(1)) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[field];
  }
  return value;
}
