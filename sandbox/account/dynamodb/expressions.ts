/**
 * DynamoDB expression evaluation for the simulated table: condition, key-condition and filter
 * expressions (comparisons, BETWEEN, IN, AND/OR/NOT, attribute_exists, attribute_not_exists,
 * begins_with, contains, size) and update expressions (SET with `+`/`-`, if_not_exists and
 * list_append; REMOVE; ADD), with ExpressionAttributeNames and ExpressionAttributeValues. Items are
 * the plain values the DocumentClient works with.
 */

export type Item = Record<string, unknown>;

export interface ExpressionContext {
  readonly names?: Readonly<Record<string, string>>;
  readonly values?: Readonly<Record<string, unknown>>;
}

/** A malformed expression or a missing placeholder: DynamoDB's ValidationException. */
export class ExpressionError extends Error {}

type PathSegment = string | number;

type Operand =
  | { readonly kind: 'path'; readonly path: readonly PathSegment[] }
  | { readonly kind: 'value'; readonly name: string }
  | { readonly kind: 'size'; readonly path: readonly PathSegment[] }
  | { readonly kind: 'if_not_exists'; readonly path: readonly PathSegment[]; readonly fallback: Operand }
  | { readonly kind: 'list_append'; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'arith'; readonly op: '+' | '-'; readonly left: Operand; readonly right: Operand };

type Condition =
  | { readonly kind: 'and' | 'or'; readonly left: Condition; readonly right: Condition }
  | { readonly kind: 'not'; readonly inner: Condition }
  | { readonly kind: 'compare'; readonly op: string; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'between'; readonly subject: Operand; readonly low: Operand; readonly high: Operand }
  | { readonly kind: 'in'; readonly subject: Operand; readonly options: readonly Operand[] }
  | { readonly kind: 'function'; readonly name: string; readonly args: readonly Operand[] };

const TOKEN = /\s*(<>|<=|>=|[=<>(),.[\]+-]|#[A-Za-z0-9_]+|:[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*|\d+)/y;

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let index = 0;
  while (index < expression.length) {
    if (/^\s*$/.test(expression.slice(index))) break;
    TOKEN.lastIndex = index;
    const match = TOKEN.exec(expression);
    if (!match)
      throw new ExpressionError(`Invalid expression: unexpected text at "${expression.slice(index)}"`);
    tokens.push(match[1]!);
    index = TOKEN.lastIndex;
  }
  return tokens;
}

class Parser {
  private position = 0;
  private readonly tokens: string[];

  constructor(
    private readonly expression: string,
    private readonly context: ExpressionContext,
  ) {
    this.tokens = tokenize(expression);
  }

  get done(): boolean {
    return this.position >= this.tokens.length;
  }

  peek(): string | undefined {
    return this.tokens[this.position];
  }

  peekKeyword(...keywords: string[]): boolean {
    const token = this.peek();
    return token !== undefined && keywords.includes(token.toUpperCase());
  }

  next(): string {
    const token = this.tokens[this.position++];
    if (token === undefined)
      throw new ExpressionError(`Invalid expression: "${this.expression}" ends too early`);
    return token;
  }

  expect(token: string): void {
    const found = this.next();
    if (found.toUpperCase() !== token) {
      throw new ExpressionError(
        `Invalid expression: expected "${token}", found "${found}" in "${this.expression}"`,
      );
    }
  }

  condition(): Condition {
    let left = this.conjunction();
    while (this.peekKeyword('OR')) {
      this.next();
      left = { kind: 'or', left, right: this.conjunction() };
    }
    return left;
  }

  private conjunction(): Condition {
    let left = this.negation();
    while (this.peekKeyword('AND')) {
      this.next();
      left = { kind: 'and', left, right: this.negation() };
    }
    return left;
  }

  private negation(): Condition {
    if (this.peekKeyword('NOT')) {
      this.next();
      return { kind: 'not', inner: this.negation() };
    }
    return this.primary();
  }

  private primary(): Condition {
    if (this.peek() === '(') {
      this.next();
      const inner = this.condition();
      this.expect(')');
      return inner;
    }
    const token = this.peek() ?? '';
    const functionName = token.toLowerCase();
    if (
      ['attribute_exists', 'attribute_not_exists', 'begins_with', 'contains', 'attribute_type'].includes(
        functionName,
      )
    ) {
      this.next();
      return { kind: 'function', name: functionName, args: this.argumentList() };
    }
    const subject = this.operand();
    if (this.peekKeyword('BETWEEN')) {
      this.next();
      const low = this.operand();
      this.expect('AND');
      return { kind: 'between', subject, low, high: this.operand() };
    }
    if (this.peekKeyword('IN')) {
      this.next();
      return { kind: 'in', subject, options: this.argumentList() };
    }
    const op = this.next();
    if (!['=', '<>', '<', '<=', '>', '>='].includes(op)) {
      throw new ExpressionError(
        `Invalid expression: expected a comparison, found "${op}" in "${this.expression}"`,
      );
    }
    return { kind: 'compare', op, left: subject, right: this.operand() };
  }

  private argumentList(): Operand[] {
    this.expect('(');
    const args = [this.operand()];
    while (this.peek() === ',') {
      this.next();
      args.push(this.operand());
    }
    this.expect(')');
    return args;
  }

  operand(): Operand {
    const token = this.peek() ?? '';
    if (token.startsWith(':')) {
      this.next();
      if (!this.context.values || !(token in this.context.values)) {
        throw new ExpressionError(
          `An expression attribute value used in expression is not defined; attribute value: ${token}`,
        );
      }
      return { kind: 'value', name: token };
    }
    const lower = token.toLowerCase();
    if (lower === 'size') {
      this.next();
      this.expect('(');
      const path = this.path();
      this.expect(')');
      return { kind: 'size', path };
    }
    if (lower === 'if_not_exists') {
      this.next();
      this.expect('(');
      const path = this.path();
      this.expect(',');
      const fallback = this.updateValue();
      this.expect(')');
      return { kind: 'if_not_exists', path, fallback };
    }
    if (lower === 'list_append') {
      this.next();
      this.expect('(');
      const left = this.updateValue();
      this.expect(',');
      const right = this.updateValue();
      this.expect(')');
      return { kind: 'list_append', left, right };
    }
    return { kind: 'path', path: this.path() };
  }

  /** The right side of a SET action: an operand, optionally `+` or `-` another. */
  updateValue(): Operand {
    const left = this.operand();
    const op = this.peek();
    if (op === '+' || op === '-') {
      this.next();
      return { kind: 'arith', op, left, right: this.operand() };
    }
    return left;
  }

  path(): PathSegment[] {
    const segments: PathSegment[] = [this.name(this.next())];
    for (;;) {
      if (this.peek() === '.') {
        this.next();
        segments.push(this.name(this.next()));
      } else if (this.peek() === '[') {
        this.next();
        segments.push(Number(this.next()));
        this.expect(']');
      } else {
        return segments;
      }
    }
  }

  private name(token: string): string {
    if (token.startsWith('#')) {
      const resolved = this.context.names?.[token];
      if (resolved === undefined) {
        throw new ExpressionError(
          `An expression attribute name used in the document path is not defined; attribute name: ${token}`,
        );
      }
      return resolved;
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(token)) {
      throw new ExpressionError(
        `Invalid expression: "${token}" is not an attribute name in "${this.expression}"`,
      );
    }
    return token;
  }
}

function getPath(item: Item | undefined, path: readonly PathSegment[]): unknown {
  let current: unknown = item;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function setPath(item: Item, path: readonly PathSegment[], value: unknown): void {
  let current: Record<string | number, unknown> = item;
  for (const segment of path.slice(0, -1)) {
    const child = current[segment];
    if (child === null || typeof child !== 'object') {
      throw new ExpressionError('The document path provided in the update expression is invalid for update');
    }
    current = child as Record<string | number, unknown>;
  }
  current[path[path.length - 1]!] = value;
}

function removePath(item: Item, path: readonly PathSegment[]): void {
  const parent = getPath(item, path.slice(0, -1));
  if (parent === null || typeof parent !== 'object') return;
  const last = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
  else delete (parent as Record<string | number, unknown>)[last];
}

function evaluate(operand: Operand, item: Item | undefined, context: ExpressionContext): unknown {
  switch (operand.kind) {
    case 'path':
      return getPath(item, operand.path);
    case 'value':
      return context.values?.[operand.name];
    case 'size': {
      const value = getPath(item, operand.path);
      if (typeof value === 'string' || Array.isArray(value)) return value.length;
      if (value instanceof Set) return value.size;
      if (value && typeof value === 'object') return Object.keys(value).length;
      return undefined;
    }
    case 'if_not_exists': {
      const existing = getPath(item, operand.path);
      return existing === undefined ? evaluate(operand.fallback, item, context) : existing;
    }
    case 'list_append': {
      const left = evaluate(operand.left, item, context);
      const right = evaluate(operand.right, item, context);
      if (!Array.isArray(left) || !Array.isArray(right)) {
        throw new ExpressionError(
          'Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append',
        );
      }
      return [...left, ...right];
    }
    case 'arith': {
      const left = evaluate(operand.left, item, context);
      const right = evaluate(operand.right, item, context);
      if (typeof left !== 'number' || typeof right !== 'number') {
        throw new ExpressionError(
          `Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ${operand.op}`,
        );
      }
      return operand.op === '+' ? left + right : left - right;
    }
  }
}

function same(a: unknown, b: unknown): boolean {
  return a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

function ordered(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

function holds(condition: Condition, item: Item | undefined, context: ExpressionContext): boolean {
  switch (condition.kind) {
    case 'and':
      return holds(condition.left, item, context) && holds(condition.right, item, context);
    case 'or':
      return holds(condition.left, item, context) || holds(condition.right, item, context);
    case 'not':
      return !holds(condition.inner, item, context);
    case 'compare': {
      const left = evaluate(condition.left, item, context);
      const right = evaluate(condition.right, item, context);
      if (condition.op === '=') return same(left, right);
      if (condition.op === '<>') return left !== undefined && right !== undefined && !same(left, right);
      const order = ordered(left, right);
      if (order === undefined) return false;
      return { '<': order < 0, '<=': order <= 0, '>': order > 0, '>=': order >= 0 }[condition.op] ?? false;
    }
    case 'between': {
      const subject = evaluate(condition.subject, item, context);
      const low = ordered(subject, evaluate(condition.low, item, context));
      const high = ordered(subject, evaluate(condition.high, item, context));
      return low !== undefined && high !== undefined && low >= 0 && high <= 0;
    }
    case 'in': {
      const subject = evaluate(condition.subject, item, context);
      return condition.options.some((option) => same(subject, evaluate(option, item, context)));
    }
    case 'function': {
      const [first, second] = condition.args;
      const subject = first ? evaluate(first, item, context) : undefined;
      switch (condition.name) {
        case 'attribute_exists':
          return subject !== undefined;
        case 'attribute_not_exists':
          return subject === undefined;
        case 'begins_with': {
          const prefix = second ? evaluate(second, item, context) : undefined;
          return typeof subject === 'string' && typeof prefix === 'string' && subject.startsWith(prefix);
        }
        case 'contains': {
          const needle = second ? evaluate(second, item, context) : undefined;
          if (typeof subject === 'string' && typeof needle === 'string') return subject.includes(needle);
          if (Array.isArray(subject)) return subject.some((entry) => same(entry, needle));
          if (subject instanceof Set) return subject.has(needle);
          return false;
        }
        default:
          throw new ExpressionError(`Invalid expression: the sandbox does not evaluate ${condition.name}`);
      }
    }
  }
}

/** Whether `item` (undefined when there is none) satisfies a condition, filter or key condition. */
export function conditionHolds(
  expression: string,
  item: Item | undefined,
  context: ExpressionContext,
): boolean {
  const parser = new Parser(expression, context);
  const condition = parser.condition();
  if (!parser.done)
    throw new ExpressionError(`Invalid expression: unexpected "${parser.peek()}" in "${expression}"`);
  return holds(condition, item, context);
}

/** Applies an update expression to a copy of `item`; returns the new item and the paths it touched. */
export function applyUpdate(
  expression: string,
  item: Item,
  context: ExpressionContext,
): { readonly item: Item; readonly updatedPaths: readonly (readonly PathSegment[])[] } {
  const parser = new Parser(expression, context);
  const next = structuredClone(item);
  const updatedPaths: PathSegment[][] = [];
  while (!parser.done) {
    const clause = parser.next().toUpperCase();
    do {
      const path = parser.path();
      updatedPaths.push(path);
      if (clause === 'SET') {
        parser.expect('=');
        setPath(next, path, structuredClone(evaluate(parser.updateValue(), item, context)));
      } else if (clause === 'REMOVE') {
        removePath(next, path);
      } else if (clause === 'ADD') {
        const addition = evaluate(parser.operand(), item, context);
        const existing = getPath(next, path);
        if (typeof addition === 'number' && (existing === undefined || typeof existing === 'number')) {
          setPath(next, path, (existing ?? 0) + addition);
        } else if (addition instanceof Set) {
          setPath(next, path, new Set([...(existing instanceof Set ? existing : []), ...addition]));
        } else {
          throw new ExpressionError(
            'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD',
          );
        }
      } else if (clause === 'DELETE') {
        const removal = evaluate(parser.operand(), item, context);
        const existing = getPath(next, path);
        if (existing instanceof Set && removal instanceof Set) {
          setPath(next, path, new Set([...existing].filter((entry) => !removal.has(entry))));
        }
      } else {
        throw new ExpressionError(`Invalid UpdateExpression: Syntax error; token: "${clause}"`);
      }
      if (parser.peek() !== ',') break;
      parser.next();
    } while (!parser.done);
  }
  return { item: next, updatedPaths };
}

/** The top-level attributes an update touched, as UPDATED_NEW / UPDATED_OLD return them. */
export function pickTopLevel(item: Item, paths: readonly (readonly PathSegment[])[]): Item {
  const names = new Set(paths.map((path) => String(path[0])));
  return Object.fromEntries(Object.entries(item).filter(([name]) => names.has(name)));
}
