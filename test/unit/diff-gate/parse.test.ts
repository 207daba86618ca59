import fc from 'fast-check';
import { judgeDiffText, parseCdkDiff, stripAnsi, type StackDiff } from '../../../lambdas/domain/cdk-diff';
import { readFixture } from './fixture-support';

function stacksOf(text: string): readonly StackDiff[] {
  const parsed = parseCdkDiff(text);
  if (!parsed.ok) throw new Error(`expected a complete diff, got: ${parsed.problem}`);
  return parsed.stacks;
}

/** The model without the Set, so two parses can be compared with toEqual. */
function plain(stacks: readonly StackDiff[]) {
  return stacks.map((s) => ({ ...s, sections: [...s.sections].sort() }));
}

describe('parseCdkDiff', () => {
  it('reads a resource line into type, construct path, logical id and change', () => {
    // Prepare
    const text = readFixture('ecs-cluster-replace');

    // Act
    const [stack] = stacksOf(text);

    // Assess
    expect(stack.name).toBe('Afu9EcsStack');
    expect(stack.resources).toEqual([
      expect.objectContaining({
        resourceType: 'AWS::ECS::Cluster',
        path: 'Cluster',
        logicalId: 'ClusterEB0386A7',
        change: 'replace',
        impact: 'replace',
        properties: [{ name: 'ClusterName', marker: '~', replacement: 'requires' }],
      }),
      expect.objectContaining({
        resourceType: 'AWS::ECS::Service',
        path: 'Service/Service',
        logicalId: 'ServiceD69D759B',
        change: 'replace',
      }),
    ]);
  });

  it('keeps construct paths that contain spaces whole', () => {
    const [stack] = stacksOf(readFixture('network-security-group-rules'));

    expect(stack.resources.map((r) => [r.path, r.logicalId])).toContainEqual([
      'ServiceSecurityGroup/from Afu9NetworkStackAlbSecurityGroupD1479A09:3443',
      'ServiceSecurityGroupfromAfu9NetworkStackAlbSecurityGroupD1479A093443F54F0DB3',
    ]);
  });

  it('never takes JSON hunk lines or nested property lines for resources', () => {
    // The task definition's hunks carry their own [-]/[+] lines with image names in them.
    const [stack] = stacksOf(readFixture('ecs-new-image'));

    expect(stack.resources).toHaveLength(1);
    expect(stack.resources[0]).toMatchObject({
      resourceType: 'AWS::ECS::TaskDefinition',
      change: 'replace',
      properties: [{ name: 'ContainerDefinitions', replacement: 'requires' }],
    });
  });

  it('skips the IAM and security group box tables and records their headings', () => {
    const [stack] = stacksOf(readFixture('iam-changes'));

    expect([...stack.sections]).toEqual(
      expect.arrayContaining(['IAM Statement Changes', 'IAM Policy Changes', 'Resources']),
    );
    expect(stack.resources.map((r) => `${r.resourceType} ${r.change}`)).toEqual([
      'AWS::IAM::Role add',
      'AWS::IAM::Policy modify',
    ]);
  });

  it('reads may-be-replaced, destroy and orphan from the trailing words', () => {
    const [database] = stacksOf(readFixture('database-may-replace'));
    const [data] = stacksOf(readFixture('data-stores-destroy'));

    expect(database.resources[0]).toMatchObject({ change: 'may-replace', impact: 'may be replaced' });
    expect(data.resources.find((r) => r.resourceType === 'AWS::Logs::LogGroup')).toMatchObject({
      change: 'destroy',
      impact: 'orphan',
    });
    expect(data.resources.find((r) => r.resourceType === 'AWS::KMS::Key')).toMatchObject({
      change: 'destroy',
      impact: 'destroy',
    });
  });

  it('derives a replacement from a (requires replacement) property when the trailing word is missing', () => {
    // Prepare: the same real output without the trailing `replace` (as an older or newer CLI might print it).
    const text = readFixture('ecs-service-replace').replace(
      'AWS::ECS::Service Service/Service ServiceD69D759B replace',
      'AWS::ECS::Service Service/Service ServiceD69D759B',
    );

    // Act
    const [stack] = stacksOf(text);

    // Assess
    expect(stack.resources[0]).toMatchObject({ logicalId: 'ServiceD69D759B', change: 'replace', impact: '' });
  });

  it('reads coloured output exactly like plain output', () => {
    const coloured = readFixture('ecs-service-replace-colour');

    expect(coloured).toContain('\x1b[');
    expect(plain(stacksOf(coloured))).toEqual(plain(stacksOf(readFixture('ecs-service-replace'))));
  });

  it('reads CRLF output exactly like LF output', () => {
    const crlf = readFixture('ecs-new-image-crlf');

    expect(crlf).toContain('\r\n');
    expect(plain(stacksOf(crlf))).toEqual(plain(stacksOf(readFixture('ecs-new-image'))));
  });

  it('reads coloured CRLF output with tables exactly like plain LF output', () => {
    expect(plain(stacksOf(readFixture('iam-changes-crlf-colour')))).toEqual(
      plain(stacksOf(readFixture('iam-changes'))),
    );
  });

  it('ignores CDK warnings, SDK notices and credential messages around the stacks', () => {
    const stacks = stacksOf(readFixture('multi-stack-blocked'));

    expect(stacks.map((s) => [s.name, s.environment])).toEqual([
      ['Afu9DatabaseStack', 'aws://123456789012/eu-central-1'],
      ['Afu9EcsStack', 'aws://123456789012/eu-central-1'],
    ]);
    expect(stacks.flatMap((s) => s.resources).map((r) => r.logicalId)).toEqual([
      'PostgresSubnetGroup9F8A4D6E',
      'PostgresSecurityGroup670916BF',
      'Afu9DatabaseStackPostgresSecret50492EFB3fdaad7efa858a3daf9490cf0a702aeb',
      'PostgresSecretAttachment75CD6F6F',
      'Postgres9DC8BB04',
      'TaskDef54694570',
    ]);
  });

  it('marks a stack without changes', () => {
    const [stack] = stacksOf(readFixture('no-differences'));

    expect(stack).toMatchObject({ name: 'Afu9EcsStack', noDifferences: true, resources: [] });
  });

  it('keeps a bare logical id that is an impact word as the logical id', () => {
    const text =
      'Stack S\nResources\n[+] AWS::SQS::Queue destroy\n\n✨  Number of stacks with differences: 1\n';

    expect(stacksOf(text)[0].resources[0]).toMatchObject({ path: '', logicalId: 'destroy', change: 'add' });
  });

  it('takes any entry under the Resources heading for a resource, even with an odd or missing type', () => {
    // Prepare: real output with the type rewritten to shapes no resource type has today
    const real = readFixture('network-security-group-destroy');
    const oddType = real.replace('[-] AWS::EC2::SecurityGroup ', '[-] Vendor::Net.Work::Group ');
    const noType = real.replace('[-] AWS::EC2::SecurityGroup ', '[-] ');

    // Act
    const [odd] = stacksOf(oddType)[0].resources;
    const [untyped] = stacksOf(noType)[0].resources;

    // Assess
    expect(odd).toMatchObject({ resourceType: 'Vendor::Net.Work::Group', change: 'destroy' });
    expect(untyped).toMatchObject({ resourceType: '(unknown type)', change: 'destroy' });
    expect(judgeDiffText(noType).verdict).toBe('WARN');
  });

  it('judges a resource by its trailing word even when the marker says addition', () => {
    // Prepare: CDK prints no trailing word after [+]; a mangled marker must not turn a replacement into an addition.
    const mayReplace = readFixture('database-may-replace').replace('[~] AWS::RDS', '[+] AWS::RDS');
    const destroy = readFixture('network-security-group-destroy').replace('[-] AWS::EC2', '[+] AWS::EC2');

    // Act + Assess
    expect(stacksOf(mayReplace)[0].resources[0]).toMatchObject({ change: 'may-replace' });
    expect(stacksOf(destroy)[0].resources[0]).toMatchObject({ change: 'destroy' });
    expect(judgeDiffText(mayReplace).verdict).toBe('BLOCKED');
  });

  it('does not take Outputs entries for resources', () => {
    const [stack] = stacksOf(readFixture('ecs-safe-additions'));

    expect(stack.sections.has('Outputs')).toBe(true);
    expect(stack.resources.map((r) => r.logicalId)).toEqual(['DeadLettersBBF8BAAB', 'JobsDF1CC2D4']);
  });

  describe('fails closed', () => {
    it('on every cut of a real multi-stack output before its closing line', () => {
      // Prepare
      const lines = readFixture('multi-stack-deployed').split('\n');
      const summaryIndex = lines.findIndex((l) => l.includes('Number of stacks with differences'));

      // Act + Assess: every prefix that ends before the closing line
      for (let cut = 0; cut < summaryIndex; cut += 1) {
        const parsed = parseCdkDiff(lines.slice(0, cut).join('\n'));
        expect({ cut, ok: parsed.ok }).toEqual({ cut, ok: false });
      }
    });

    it('when a stack section is missing but the closing line still counts it', () => {
      // Prepare: drop the second stack of a real two-stack run
      const text = readFixture('multi-stack-blocked');
      const start = text.indexOf('Stack Afu9EcsStack');
      const end = text.indexOf('\n✨');
      const mangled = text.slice(0, start) + text.slice(end);

      // Act
      const parsed = parseCdkDiff(mangled);

      // Assess
      expect(parsed.ok).toBe(false);
      expect(!parsed.ok && parsed.problem).toMatch(/says 2 stack\(s\) have differences but shows 1/);
    });

    it('when a stack header has nothing under it', () => {
      const text = readFixture('no-differences').replace('There were no differences', '');

      const parsed = parseCdkDiff(text);

      expect(!parsed.ok && parsed.problem).toMatch(/Stack Afu9EcsStack has a header but nothing under it/);
    });

    it('when a Resources heading has no resource under it (its only line was lost)', () => {
      const text = readFixture('network-security-group-destroy').replace(
        /^\[-\] AWS::EC2::SecurityGroup .*\n/m,
        '',
      );

      const parsed = parseCdkDiff(text);

      expect(!parsed.ok && parsed.problem).toMatch(
        /Stack Afu9NetworkStack has a Resources heading with no resource under it/,
      );
    });

    it('when property lines stand under no resource (a stray CR split the resource line)', () => {
      // Before: the split-off `e` closed the resource as a safe in-place update, and the
      // `(requires replacement)` under it was ignored: PASS for a service replacement.
      const text = readFixture('ecs-service-replace').replace(
        'ServiceD69D759B replace',
        'ServiceD69D759B replac\re',
      );

      const parsed = parseCdkDiff(text);

      expect(!parsed.ok && parsed.problem).toMatch(
        /Stack Afu9EcsStack has a property change with no resource line above it \(" └─ \[~\] ServiceName/,
      );
    });

    it('when a resource line stands after the closing line', () => {
      // Prepare: the closing line swapped with a blocking resource line (it was WARN: only the subnet group was read)
      const lines = readFixture('database-destroy').split('\n');
      const resource = lines.findIndex((l) => l.startsWith('[-] AWS::EC2::SecurityGroup'));
      const closing = lines.findIndex((l) => l.includes('Number of stacks with differences'));
      [lines[resource], lines[closing]] = [lines[closing], lines[resource]];

      // Act
      const parsed = parseCdkDiff(lines.join('\n'));

      // Assess
      expect(!parsed.ok && parsed.problem).toMatch(
        /A resource line stands outside any stack \("\[-\] AWS::SecretsManager::Secret Postgres/,
      );
    });

    it('on a closing line with no stack (cdk diff --quiet)', () => {
      const parsed = parseCdkDiff('\n✨  Number of stacks with differences: 0\n\n');

      expect(!parsed.ok && parsed.problem).toMatch(/names no stack/);
    });

    it('on a security-only diff, which does not list every resource change', () => {
      const text =
        'Stack Afu9EcsStack\nThere were no security-related changes (limitations: https://github.com/aws/aws-cdk/issues/1299)\n' +
        '\n✨  Number of stacks with differences: 0\n';

      const parsed = parseCdkDiff(text);

      expect(!parsed.ok && parsed.problem).toMatch(/--security-only/);
    });

    it('on any text that has no closing line, and never throws', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (text) => {
          fc.pre(!text.includes('Number of stacks with differences'));
          expect(judgeDiffText(text).verdict).toBe('ERROR');
        }),
      );
    });

    it('on real lines shuffled into any order without their closing line', () => {
      const lines = readFixture('network-load-balancer-replace')
        .split('\n')
        .filter((l) => !l.includes('Number of stacks'));
      fc.assert(
        fc.property(fc.shuffledSubarray(lines), (picked) => {
          expect(judgeDiffText(picked.join('\n')).verdict).toBe('ERROR');
        }),
      );
    });
  });
});

describe('stripAnsi', () => {
  it('removes colour and hyperlink sequences and leaves the text', () => {
    expect(stripAnsi('\x1b[0m\x1b[33m[~]\x1b[39m \x1b]8;;https://x\x07link\x1b]8;;\x07')).toBe('[~] link');
  });
});
