/**
 * The Condition element: every operator block must hold, every key in a block must hold, and a key
 * holds when the request's value matches one of the listed values (for negated operators: none).
 * Operators are those CDK templates use; any other raises UnsupportedPolicy rather than guessing.
 */
import { UnsupportedPolicy, asList, type PolicyCondition } from './policy';
import { arnParts, matchesPattern, type ContextLookup, type ContextValue } from './patterns';

type Scalar = string | number | boolean;

interface BaseOperator {
  /** True when the operator is a negation (`StringNotEquals`): the key holds when no value matches. */
  readonly negated: boolean;
  /** Whether one request value matches one policy value, for the positive form of the operator. */
  readonly test: (requestValue: Scalar, policyValue: string, variables: ContextLookup | undefined) => boolean;
}

const exact =
  (ignoreCase: boolean) => (requestValue: Scalar, policyValue: string, variables?: ContextLookup) =>
    typeof requestValue === 'string' &&
    matchesPattern(requestValue, policyValue, { wildcards: false, ignoreCase, variables });

const like = (requestValue: Scalar, policyValue: string, variables?: ContextLookup) =>
  typeof requestValue === 'string' &&
  matchesPattern(requestValue, policyValue, { wildcards: true, ignoreCase: false, variables });

/** ArnEquals and ArnLike alike: each of the six parts matched on its own, case-sensitive, wildcards allowed. */
function arnMatches(requestValue: Scalar, policyValue: string, variables?: ContextLookup): boolean {
  if (typeof requestValue !== 'string') return false;
  const actual = arnParts(requestValue);
  const pattern = arnParts(policyValue);
  if (!actual) return false;
  if (!pattern) return like(requestValue, policyValue, variables);
  return pattern.every((part, index) =>
    matchesPattern(actual[index]!, part, { wildcards: true, ignoreCase: false, variables }),
  );
}

function policyNumber(policyValue: string): number {
  const number = Number(policyValue);
  if (policyValue.trim() === '' || !Number.isFinite(number)) {
    throw new UnsupportedPolicy(`A numeric condition compares with "${policyValue}", which is not a number.`);
  }
  return number;
}

const numeric =
  (compare: (left: number, right: number) => boolean) => (requestValue: Scalar, policyValue: string) => {
    const right = policyNumber(policyValue);
    const left = typeof requestValue === 'number' ? requestValue : Number(requestValue);
    return Number.isFinite(left) && compare(left, right);
  };

function boolMatches(requestValue: Scalar, policyValue: string): boolean {
  const expected = policyValue.toLowerCase();
  if (expected !== 'true' && expected !== 'false') {
    throw new UnsupportedPolicy(
      `A Bool condition compares with "${policyValue}"; only "true" and "false" exist.`,
    );
  }
  return String(requestValue).toLowerCase() === expected;
}

const OPERATORS: Readonly<Record<string, BaseOperator>> = {
  StringEquals: { negated: false, test: exact(false) },
  StringNotEquals: { negated: true, test: exact(false) },
  StringEqualsIgnoreCase: { negated: false, test: exact(true) },
  StringNotEqualsIgnoreCase: { negated: true, test: exact(true) },
  StringLike: { negated: false, test: like },
  StringNotLike: { negated: true, test: like },
  ArnEquals: { negated: false, test: arnMatches },
  ArnLike: { negated: false, test: arnMatches },
  ArnNotEquals: { negated: true, test: arnMatches },
  ArnNotLike: { negated: true, test: arnMatches },
  NumericEquals: { negated: false, test: numeric((a, b) => a === b) },
  NumericNotEquals: { negated: true, test: numeric((a, b) => a === b) },
  NumericLessThan: { negated: false, test: numeric((a, b) => a < b) },
  NumericLessThanEquals: { negated: false, test: numeric((a, b) => a <= b) },
  NumericGreaterThan: { negated: false, test: numeric((a, b) => a > b) },
  NumericGreaterThanEquals: { negated: false, test: numeric((a, b) => a >= b) },
  Bool: { negated: false, test: boolMatches },
};

type SetOperator = 'ForAnyValue' | 'ForAllValues' | undefined;

interface ParsedOperator {
  readonly name: string;
  readonly set: SetOperator;
  readonly ifExists: boolean;
  /** `Null` checks presence, not values. */
  readonly base: BaseOperator | 'Null';
}

/** Splits `ForAnyValue:StringLikeIfExists` into its parts; an operator this evaluator does not know throws. */
export function parseOperator(name: string): ParsedOperator {
  const prefixed = /^(ForAnyValue|ForAllValues):(.+)$/.exec(name);
  const set = prefixed ? (prefixed[1] as SetOperator) : undefined;
  const rest = prefixed ? prefixed[2]! : name;
  const ifExists = rest.endsWith('IfExists');
  const baseName = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
  if (baseName === 'Null') {
    if (set || ifExists) throw new UnsupportedPolicy(`The condition operator ${name} does not exist in IAM.`);
    return { name, set, ifExists, base: 'Null' };
  }
  const base = OPERATORS[baseName];
  if (!base) {
    throw new UnsupportedPolicy(
      `The condition operator ${name} is not supported by the sandbox's IAM evaluator (supported: ` +
        `${[...Object.keys(OPERATORS), 'Null'].join(', ')}, with ForAnyValue:/ForAllValues: and ...IfExists). ` +
        'Extend sandbox/iam/conditions.ts, or rehearse without this statement.',
    );
  }
  return { name, set, ifExists, base };
}

function requestValues(value: ContextValue | undefined): readonly Scalar[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? (value as readonly string[]) : [value as Scalar];
}

function keyHolds(
  operator: ParsedOperator,
  key: string,
  policyValues: readonly string[],
  lookup: ContextLookup,
  variables: ContextLookup | undefined,
): boolean {
  const values = requestValues(lookup(key));
  const base = operator.base;
  if (base === 'Null') {
    const absent = values === undefined || values.length === 0;
    return policyValues.some((expected) => {
      const lowered = expected.toLowerCase();
      if (lowered !== 'true' && lowered !== 'false') {
        throw new UnsupportedPolicy(
          `A Null condition on ${key} compares with "${expected}"; only "true" and "false" exist.`,
        );
      }
      return (lowered === 'true') === absent;
    });
  }
  const one = (value: Scalar) => {
    const matched = policyValues.some((policyValue) => base.test(value, policyValue, variables));
    return base.negated ? !matched : matched;
  };
  if (values === undefined || values.length === 0) {
    if (operator.ifExists) return true;
    if (operator.set === 'ForAllValues') return true;
    if (operator.set === 'ForAnyValue') return false;
    return base.negated;
  }
  if (operator.set === 'ForAllValues') return values.every(one);
  if (operator.set === 'ForAnyValue') return values.some(one);
  if (Array.isArray(lookup(key))) {
    throw new UnsupportedPolicy(
      `The condition ${operator.name} tests the multivalued key ${key} without ForAnyValue: or ForAllValues:; ` +
        'IAM gives that an ambiguous meaning, so the sandbox refuses to judge it. Qualify the operator.',
    );
  }
  return one(values[0]!);
}

/** Whether the statement's Condition holds for the request (no Condition always holds). */
export function conditionsHold(
  condition: PolicyCondition | undefined,
  lookup: ContextLookup,
  variablesEnabled: boolean,
): boolean {
  if (!condition) return true;
  const variables = variablesEnabled ? lookup : undefined;
  return Object.entries(condition).every(([operatorName, keys]) => {
    const operator = parseOperator(operatorName);
    return Object.entries(keys).every(([key, expected]) =>
      keyHolds(operator, key, asList(expected).map(String), lookup, variables),
    );
  });
}

/** Raises UnsupportedPolicy for an operator this evaluator does not know, before any request is judged. */
export function validateCondition(condition: PolicyCondition | undefined): void {
  for (const operatorName of Object.keys(condition ?? {})) parseOperator(operatorName);
}
