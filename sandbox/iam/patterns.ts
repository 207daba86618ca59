/**
 * The matching IAM applies to actions, resources and string conditions: `*` and `?` wildcards, and
 * policy variables (`${aws:username}`, `${aws:SourceAccount, 'default'}`, the escapes `${*}`, `${?}`,
 * `${$}`), which exist only in documents of policy language version 2012-10-17.
 */

export type ContextValue = string | readonly string[] | boolean | number;

/** Condition keys are case-insensitive in IAM; this looks a key up the same way. */
export type ContextLookup = (key: string) => ContextValue | undefined;

export function contextLookup(context: Readonly<Record<string, ContextValue>>): ContextLookup {
  const byLowerKey = new Map(Object.entries(context).map(([key, value]) => [key.toLowerCase(), value]));
  return (key) => byLowerKey.get(key.toLowerCase());
}

export interface PatternOptions {
  /** `*` and `?` are wildcards (actions, resources, `...Like` operators) rather than literal characters. */
  readonly wildcards: boolean;
  readonly ignoreCase: boolean;
  /** Policy variables are substituted (version 2012-10-17 documents only); otherwise `${...}` is literal. */
  readonly variables: ContextLookup | undefined;
}

const VARIABLE = /\$\{([^}]*)\}/g;
const ESCAPES: Readonly<Record<string, string>> = { '*': '*', '?': '?', $: '$' };

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function literalOrWildcards(text: string, wildcards: boolean): string {
  if (!wildcards) return escapeRegExp(text);
  return text
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : escapeRegExp(char)))
    .join('');
}

/** The value a variable stands for, or undefined when it cannot be resolved (then nothing matches). */
function variableValue(body: string, lookup: ContextLookup): string | undefined {
  const escaped = ESCAPES[body];
  if (escaped !== undefined) return escaped;
  const withDefault = /^\s*([^,]+?)\s*,\s*'([^']*)'\s*$/.exec(body);
  const key = withDefault ? withDefault[1]! : body.trim();
  const value = lookup(key);
  if (value === undefined) return withDefault ? withDefault[2] : undefined;
  // A multivalued key cannot stand in a policy variable.
  if (Array.isArray(value)) return undefined;
  return String(value);
}

/**
 * A regular expression for `pattern`, or undefined when a policy variable in it has no value in the
 * request (IAM then treats the element as not matching).
 */
export function compilePattern(pattern: string, options: PatternOptions): RegExp | undefined {
  let source = '';
  let last = 0;
  if (options.variables) {
    for (const match of pattern.matchAll(VARIABLE)) {
      source += literalOrWildcards(pattern.slice(last, match.index), options.wildcards);
      const value = variableValue(match[1]!, options.variables);
      if (value === undefined) return undefined;
      // A substituted value is literal text: a `*` in it is not a wildcard.
      source += escapeRegExp(value);
      last = match.index + match[0].length;
    }
  }
  source += literalOrWildcards(pattern.slice(last), options.wildcards);
  return new RegExp(`^${source}$`, options.ignoreCase ? 'is' : 's');
}

export function matchesPattern(value: string, pattern: string, options: PatternOptions): boolean {
  return compilePattern(pattern, options)?.test(value) ?? false;
}

/** The six colon-separated parts of an ARN (the last keeps its colons), or undefined for a non-ARN. */
export function arnParts(arn: string): readonly string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}
