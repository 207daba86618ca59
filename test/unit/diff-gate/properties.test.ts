/**
 * Property-based tests of the diff gate (fast-check):
 * 1. random mutations of the REAL `cdk diff` fixtures: the gate never throws, never answers PASS to
 *    a mutated blocking diff, and any cut before the closing line is ERROR;
 * 2. random bytes, unicode and JSON: always ERROR;
 * 3. diffs generated from the grammar CDK prints (`@aws-cdk/cloudformation-diff` format.ts): the
 *    verdict and findings are those of the most severe rule matching each resource, computed here
 *    from the rule data (`diffRules`), not by the parser's own lookup.
 * A failure prints the seed and the shrunk counterexample; pass `{ seed, path }` to `fc.assert` to
 * replay it.
 */
import fc from 'fast-check';
import {
  diffRules,
  judgeDiffText,
  stripAnsi,
  type DiffRule,
  type Severity,
} from '../../../lambdas/domain/cdk-diff';
import type { ChangeKind, DiffVerdict, Finding } from '../../../lambdas/domain/workflow-state';
import { fixtureNames, readFixture } from './fixture-support';

const CLOSING_LINE = /Number of stacks with differences: \d+/;

const fixtures = new Map(fixtureNames().map((name) => [name, readFixture(name)]));
const verdictOf = new Map([...fixtures].map(([name, text]) => [name, judgeDiffText(text).verdict]));
const named = (verdict: (v: DiffVerdict) => boolean) =>
  [...verdictOf].filter(([, v]) => verdict(v)).map(([name]) => name);
const completeNames = named((v) => v !== 'ERROR');
const allFixtures = fc.constantFrom(...fixtures.keys());
const blockingFixtures = fc.constantFrom(...named((v) => v === 'BLOCKED'));
const completeFixtures = fc.constantFrom(...completeNames);

function text(name: string): string {
  return fixtures.get(name) as string;
}

/** One change to a text, as fast-check shows it in a counterexample. Positions wrap around the text. */
type Mutation =
  | { readonly kind: 'delete-line'; readonly at: number }
  | { readonly kind: 'duplicate-line'; readonly at: number }
  | { readonly kind: 'swap-lines'; readonly at: number; readonly with: number }
  | { readonly kind: 'insert-text'; readonly at: number; readonly text: string }
  | { readonly kind: 'flip-marker'; readonly nth: number; readonly to: '+' | '-' | '~' }
  | { readonly kind: 'line-endings'; readonly eol: '\r\n' | '\r' }
  | { readonly kind: 'one-line-ending'; readonly at: number; readonly eol: '\r\n' | '\r' | '' }
  | { readonly kind: 'drop-closing-line' };

// What a terminal-aware CLI emits: colours, bold, erase line, cursor, OSC-8 hyperlinks (both terminators).
const ansiSequences = [
  '\x1b[0m',
  '\x1b[1m',
  '\x1b[22m',
  '\x1b[31m',
  '\x1b[38;5;208m',
  '\x1b[2K',
  '\x1b[?25l',
  '\x1b]8;;https://docs.aws.amazon.com\x07',
  '\x1b]8;;\x1b\\',
];

const position = fc.nat({ max: 100_000 });
const insertedText = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }),
  fc.uint8Array({ minLength: 1, maxLength: 6 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.constantFrom(...ansiSequences),
  fc.constantFrom('\n', '\r', '\t', ' ', '\x1b', '\u00a0', '\ufeff', '\u200b', '[', ']', '─'),
);
const eols = ['\r\n', '\r'] as const;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete-line' as const), at: position }),
  fc.record({ kind: fc.constant('duplicate-line' as const), at: position }),
  fc.record({ kind: fc.constant('swap-lines' as const), at: position, with: position }),
  fc.record({ kind: fc.constant('insert-text' as const), at: position, text: insertedText }),
  fc.record({
    kind: fc.constant('flip-marker' as const),
    nth: position,
    to: fc.constantFrom('+' as const, '-' as const, '~' as const),
  }),
  fc.record({ kind: fc.constant('line-endings' as const), eol: fc.constantFrom(...eols) }),
  fc.record({
    kind: fc.constant('one-line-ending' as const),
    at: position,
    eol: fc.constantFrom(...eols, '' as const),
  }),
  fc.constant({ kind: 'drop-closing-line' as const }),
);

function mutate(original: string, m: Mutation): string {
  const lines = original.split('\n');
  const line = (at: number) => at % lines.length;
  switch (m.kind) {
    case 'delete-line':
      return lines.filter((_, i) => i !== line(m.at)).join('\n');
    case 'duplicate-line':
      return lines.flatMap((l, i) => (i === line(m.at) ? [l, l] : [l])).join('\n');
    case 'swap-lines': {
      const [a, b] = [line(m.at), line(m.with)];
      const swapped = [...lines];
      [swapped[a], swapped[b]] = [lines[b], lines[a]];
      return swapped.join('\n');
    }
    case 'insert-text': {
      const at = m.at % (original.length + 1);
      return original.slice(0, at) + m.text + original.slice(at);
    }
    case 'flip-marker': {
      const markers = [...original.matchAll(/\[[+~-]\]/g)];
      if (markers.length === 0) return original;
      const at = markers[m.nth % markers.length].index;
      return `${original.slice(0, at)}[${m.to}]${original.slice(at + 3)}`;
    }
    case 'line-endings':
      return original.replace(/\r?\n/g, m.eol);
    case 'one-line-ending':
      return lines.map((l, i) => (i === line(m.at) ? l + m.eol : l)).join('\n');
    case 'drop-closing-line':
      return lines.filter((l) => !CLOSING_LINE.test(l)).join('\n');
  }
}

function plainLines(diff: string): string[] {
  return stripAnsi(diff).split(/\r\n|\n|\r/);
}

/** The resource lines a blocking finding came from, without colour. */
function blockingResourceLines(diff: string): string[] {
  const { blocking } = judgeDiffText(diff);
  return plainLines(diff).filter(
    (l) =>
      /^\[[+~\-←]\] /.test(l) &&
      blocking.some((f) => l.includes(` ${f.resourceType} `) && l.includes(` ${f.logicalId}`)),
  );
}

describe('diff gate properties', () => {
  describe('random mutations of real cdk diff output', () => {
    it('never throw, whatever and however many mutations, and give one of the four verdicts', () => {
      fc.assert(
        fc.property(allFixtures, fc.array(mutation, { minLength: 1, maxLength: 4 }), (name, mutations) => {
          const mutated = mutations.reduce(mutate, text(name));

          expect(['PASS', 'WARN', 'BLOCKED', 'ERROR']).toContain(judgeDiffText(mutated).verdict);
        }),
        { numRuns: 500 },
      );
    });

    // WARN is allowed only when the mutation mangled a blocking resource line itself (a byte inside
    // its type, say): the gate then sees a change to a type no rule names, which is at least a
    // warning, and cannot know that the line once said something worse.
    it('never answer PASS to a mutated blocking diff, and WARN only when a blocking line itself was mangled', () => {
      fc.assert(
        fc.property(blockingFixtures, mutation, (name, m) => {
          // Act
          const mutated = mutate(text(name), m);
          const { verdict } = judgeDiffText(mutated);

          // Assess
          expect(verdict).not.toBe('PASS');
          if (verdict === 'WARN') {
            const lines = plainLines(mutated);
            expect(blockingResourceLines(text(name)).filter((l) => !lines.includes(l))).not.toEqual([]);
          }
        }),
        { numRuns: 3000 },
      );
    });

    it('answer ERROR to a cut anywhere before the closing line', () => {
      fc.assert(
        fc.property(
          completeFixtures,
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          (name, where) => {
            // Prepare: a cut before the last digit of the count loses the closing line.
            const closing = CLOSING_LINE.exec(text(name)) as RegExpExecArray;
            const cut = Math.floor(where * (closing.index + closing[0].length));

            // Act + Assess
            expect(judgeDiffText(text(name).slice(0, cut)).verdict).toBe('ERROR');
          },
        ),
        { numRuns: 300 },
      );
    });

    it.each(completeNames)('answer ERROR when the closing line of %s is dropped', (name) => {
      expect(judgeDiffText(mutate(text(name), { kind: 'drop-closing-line' })).verdict).toBe('ERROR');
    });
  });

  describe('garbage', () => {
    it('random bytes, read as UTF-8 or Latin-1, are ERROR', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 2000 }),
          fc.constantFrom('utf8' as const, 'latin1' as const),
          (bytes, encoding) => {
            expect(judgeDiffText(Buffer.from(bytes).toString(encoding)).verdict).toBe('ERROR');
          },
        ),
        { numRuns: 200 },
      );
    });

    it('random unicode text is ERROR', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 1000 }), (garbage) => {
          expect(judgeDiffText(garbage).verdict).toBe('ERROR');
        }),
        { numRuns: 200 },
      );
    });

    it('random JSON (what a mis-wired build might store instead of the diff) is ERROR, compact or pretty', () => {
      fc.assert(
        fc.property(fc.json({ maxDepth: 4 }), (json) => {
          expect(judgeDiffText(json).verdict).toBe('ERROR');
          expect(judgeDiffText(JSON.stringify(JSON.parse(json), null, 2)).verdict).toBe('ERROR');
        }),
        { numRuns: 200 },
      );
    });

    it('random lines of diff words, with no closing count, are ERROR', () => {
      const word = fc.constantFrom(
        'Stack',
        'Afu9EcsStack',
        'Resources',
        'There were no differences',
        '[+]',
        '[~]',
        '[-]',
        'AWS::ECS::Service',
        'replace',
        '✨',
        'Number of stacks with differences:',
        ' └─',
        '(requires replacement)',
      );
      const line = fc.array(word, { maxLength: 5 }).map((words) => words.join(' '));
      fc.assert(
        fc.property(fc.array(line, { maxLength: 30 }), (lines) => {
          expect(judgeDiffText(lines.join('\n')).verdict).toBe('ERROR');
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('diffs generated from the grammar cdk diff prints', () => {
    /** How CDK words a resource change: the contract's change kinds plus `orphan` and `import`. */
    type PrintedChange = ChangeKind | 'orphan' | 'import';
    interface GeneratedProperty {
      readonly name: string;
      readonly replacement: 'requires' | 'may' | 'none';
    }
    interface GeneratedResource {
      readonly type: string;
      readonly path: string;
      readonly logicalId: string;
      readonly printed: PrintedChange;
      readonly properties: readonly GeneratedProperty[];
    }
    interface GeneratedStack {
      readonly name: string;
      readonly environment: string | null;
      readonly notice: string | null;
      readonly securityTable: boolean;
      readonly outputs: boolean;
      /** Empty: CDK says `There were no differences`. */
      readonly resources: readonly GeneratedResource[];
    }
    interface GeneratedRun {
      readonly stacks: readonly GeneratedStack[];
      readonly colour: boolean;
      readonly eol: '\n' | '\r\n';
    }

    const unlistedTypes = [
      'AWS::SNS::Topic',
      'AWS::SSM::Parameter',
      'AWS::Lambda::Function',
      'AWS::RDS::DBSubnetGroup',
      'AWS::SecretsManager::SecretTargetAttachment',
      'AWS::EC2::Route',
      'Custom::AWS',
    ];
    const ruleTypes = [...new Set(diffRules.flatMap((r) => r.resourceTypes))].filter((t) => t !== '*');
    const asChange: Record<PrintedChange, ChangeKind> = {
      add: 'add',
      import: 'add',
      modify: 'modify',
      replace: 'replace',
      'may-replace': 'may-replace',
      destroy: 'destroy',
      orphan: 'destroy',
    };
    // Real lines from the fixtures: what CDK and the SDK print between stacks.
    const notices = [
      'Could not create a change set, will base the diff on template differences (run again with -v to see the reason)',
      'Lookup role arn:aws:iam::123456789012:role/cdk-hnb659fds-lookup-role-123456789012-eu-central-1 was not assumed. Proceeding with default credentials.',
    ];
    const securityTable = [
      'Security Group Changes',
      '┌───┬─────────────────────────────┬─────┬──────────┬────────────────┐',
      '│   │ Group                       │ Dir │ Protocol │ Peer           │',
      '├───┼─────────────────────────────┼─────┼──────────┼────────────────┤',
      '│ + │ ${AlbSecurityGroup.GroupId} │ In  │ TCP 443  │ 203.0.113.0/24 │',
      '└───┴─────────────────────────────┴─────┴──────────┴────────────────┘',
      '(NOTE: There may be security-related changes not in this list. See https://github.com/aws/aws-cdk/issues/1299)',
      '',
    ];

    const propertyName = fc.stringMatching(/^[A-Z][A-Za-z]{1,20}$/);
    type Replacement = GeneratedProperty['replacement'];
    const asMildOrMilder: Record<Replacement, Replacement[]> = {
      requires: ['requires', 'may', 'none'],
      may: ['may', 'none'],
      none: ['none'],
    };
    /** A resource's impact is that of its worst property, as in CDK's own change impact. */
    const properties = (printed: PrintedChange): fc.Arbitrary<GeneratedProperty[]> => {
      if (printed !== 'modify' && printed !== 'replace' && printed !== 'may-replace') return fc.constant([]);
      const worst: Replacement =
        printed === 'replace' ? 'requires' : printed === 'may-replace' ? 'may' : 'none';
      const other = fc.constantFrom(...asMildOrMilder[worst]);
      return fc
        .tuple(
          fc.record({ name: propertyName, replacement: fc.constant(worst) }),
          fc.array(fc.record({ name: propertyName, replacement: other }), { maxLength: 3 }),
        )
        .map(([first, rest]) => [...rest, first]);
    };
    const segment = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/);
    const constructPath = fc.oneof(
      fc.constant(''),
      fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/')),
      // Security group rule paths carry a space: `AlbSecurityGroup/to Afu9...GroupId:3000`.
      fc
        .tuple(segment, segment, fc.integer({ min: 1, max: 65535 }))
        .map(([a, b, port]) => `${a}/to ${b}:${port}`),
    );
    const printedChanges: readonly PrintedChange[] = [
      'add',
      'import',
      'modify',
      'replace',
      'may-replace',
      'destroy',
      'orphan',
    ];
    // Built once: `stringMatching` is costly to build, cheap to draw from.
    const resourceType = fc.constantFrom(...ruleTypes, ...unlistedTypes);
    const logicalId = fc.stringMatching(/^[A-Z][A-Za-z0-9]{1,20}[0-9A-F]{8}$/);
    const stackName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,30}$/);
    const resource = (changes: readonly PrintedChange[]): fc.Arbitrary<GeneratedResource> =>
      fc
        .record({
          type: resourceType,
          path: constructPath,
          logicalId,
          printed: fc.constantFrom(...changes),
        })
        .chain((r) => properties(r.printed).map((props) => ({ ...r, properties: props })));
    const stack = (changes: readonly PrintedChange[]): fc.Arbitrary<GeneratedStack> =>
      fc.record({
        name: stackName,
        environment: fc.option(fc.constant('aws://123456789012/eu-central-1')),
        notice: fc.option(fc.constantFrom(...notices)),
        securityTable: fc.boolean(),
        outputs: fc.boolean(),
        resources: fc.array(resource(changes), { maxLength: 6 }),
      });
    // Each run draws from a few change kinds, so calm runs (PASS, WARN) are as common as blocked ones.
    const run: fc.Arbitrary<GeneratedRun> = fc
      .subarray([...printedChanges], { minLength: 1, maxLength: 3 })
      .chain((changes) =>
        fc.record({
          stacks: fc.array(stack(changes), { minLength: 1, maxLength: 4 }),
          colour: fc.boolean(),
          eol: fc.constantFrom('\n' as const, '\r\n' as const),
        }),
      );

    /** Prints a run the way `cdk diff` does (`formatDifferences`, `formatResourceDifference`, `formatTreeDiff`). */
    function render({ stacks, colour, eol }: GeneratedRun): string {
      const paint = (code: string, s: string) => (colour ? `\x1b[${code}m${s}\x1b[39m` : s);
      const heading = (title: string) =>
        colour ? `\x1b[0m\x1b[4m\x1b[1m${title}\x1b[22m\x1b[24m\x1b[0m` : title;
      const marker: Record<PrintedChange, string> = {
        add: paint('32', '[+]'),
        import: paint('34', '[←]'),
        modify: paint('33', '[~]'),
        replace: paint('33', '[~]'),
        'may-replace': paint('33', '[~]'),
        destroy: paint('31', '[-]'),
        orphan: paint('31', '[-]'),
      };
      const impact: Record<PrintedChange, string> = {
        add: '',
        import: 'import',
        modify: '',
        replace: 'replace',
        'may-replace': 'may be replaced',
        destroy: 'destroy',
        orphan: 'orphan',
      };
      const suffix = { requires: ' (requires replacement)', may: ' (may cause replacement)', none: '' };
      const lines: string[] = [];
      for (const s of stacks) {
        if (s.notice) lines.push(s.notice, '');
        lines.push(
          `Stack ${colour ? `\x1b[1m${s.name}\x1b[22m` : s.name}${s.environment ? ` (${s.environment})` : ''}`,
        );
        if (s.resources.length === 0) {
          lines.push('There were no differences', '');
          continue;
        }
        if (s.securityTable) lines.push(...securityTable);
        lines.push(heading('Resources'));
        for (const r of s.resources) {
          const id = r.path ? `${r.path} ${paint('90', r.logicalId)}` : r.logicalId;
          lines.push(
            [marker[r.printed], paint('36', r.type), id, impact[r.printed]].filter(Boolean).join(' '),
          );
          r.properties.forEach((p, i) => {
            const last = i === r.properties.length - 1;
            lines.push(` ${last ? '└' : '├'}─ ${marker.modify} ${p.name}${suffix[p.replacement]}`);
            lines.push(` ${last ? ' ' : '│'}   ├─ ${marker.destroy} ${paint('31', 'old-value')}`);
            lines.push(` ${last ? ' ' : '│'}   └─ ${marker.add} ${paint('32', 'new-value')}`);
          });
        }
        lines.push('');
        if (s.outputs)
          lines.push(heading('Outputs'), `${marker.add} Output QueueUrl QueueUrl: {"Value":"x"}`, '');
      }
      const withDifferences = stacks.filter((s) => s.resources.length > 0).length;
      lines.push('', '', `✨  Number of stacks with differences: ${withDifferences}`, '');
      return lines.join(eol);
    }

    const rank: Record<Severity, number> = { safe: 1, warning: 2, blocking: 3 };

    /** The model: every rule naming the type and change, else the `*` rules; the most severe, first in the list on ties. */
    function expectedRule(type: string, change: ChangeKind) {
      const byType = diffRules.filter((r) => r.resourceTypes.includes(type) && r.changes.includes(change));
      const matching =
        byType.length > 0
          ? byType
          : diffRules.filter((r) => r.resourceTypes.includes('*') && r.changes.includes(change));
      const top = Math.max(...matching.map((r) => rank[r.severity]));
      return matching.find((r) => rank[r.severity] === top) as DiffRule;
    }

    function keys(findings: readonly Finding[]): string[] {
      return findings.map(
        (f) => `${f.stack} ${f.resourceType} ${f.path} ${f.logicalId} ${f.change} ${f.rule}`,
      );
    }

    it('are judged as the most severe matching rule of each resource says', () => {
      fc.assert(
        fc.property(run, (generated) => {
          // Prepare: what the rule data says, resource by resource
          const expected: Record<Severity, string[]> = { blocking: [], warning: [], safe: [] };
          for (const s of generated.stacks) {
            for (const r of s.resources) {
              const change = asChange[r.printed];
              const rule = expectedRule(r.type, change);
              expected[rule.severity].push(
                `${s.name} ${r.type} ${r.path} ${r.logicalId} ${change} ${rule.id}`,
              );
            }
          }
          const verdict: DiffVerdict =
            expected.blocking.length > 0 ? 'BLOCKED' : expected.warning.length > 0 ? 'WARN' : 'PASS';

          // Act
          const judgement = judgeDiffText(render(generated));

          // Assess
          expect(judgement.verdict).toBe(verdict);
          expect(judgement.stacks).toEqual(generated.stacks.map((s) => s.name));
          expect(keys(judgement.blocking)).toEqual(expected.blocking);
          expect(keys(judgement.warnings)).toEqual(expected.warning);
          expect(keys(judgement.safe)).toEqual(expected.safe);
        }),
        { numRuns: 500 },
      );
    });
  });
});
