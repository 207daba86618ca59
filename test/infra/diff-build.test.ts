/**
 * The diff build runs code from the AFU-9 infrastructure repository with its role: what it runs, what
 * the role may do, and that its limits end a build before Step Functions gives up on it. Bundling is
 * skipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { definitionPath } from '../../statemachine/definition';
import { actionsOf, resourcesOf, roleOf, statementsOfRole, synthTemplate } from './synth';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** Everything the build role may do: each entry is a need of the build, nothing from the repository. */
const ALLOWED_BUILD_ACTIONS = new Set([
  // Read the source zip (the S3 source binding).
  's3:GetObject*',
  's3:GetBucket*',
  's3:List*',
  // Write the diff text.
  's3:PutObject',
  // Its own logs and (CodeBuild's default grant) its own report groups.
  'logs:CreateLogGroup',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'codebuild:CreateReportGroup',
  'codebuild:CreateReport',
  'codebuild:UpdateReport',
  'codebuild:BatchPutTestCases',
  'codebuild:BatchPutCodeCoverages',
  // Its own output key.
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
  // What `cdk diff` reads.
  'cloudformation:DescribeStacks',
  'cloudformation:GetTemplate',
  'cloudformation:GetTemplateSummary',
  'ssm:GetParameter',
  'sts:AssumeRole',
]);

describe('DiffBuild', () => {
  let template: Template;
  let project: Record<string, unknown>;
  let buildSpec: string;

  beforeAll(() => {
    ({ template } = synthTemplate());
    const [found] = Object.values(template.findResources('AWS::CodeBuild::Project') as Resources);
    project = found!.Properties;
    buildSpec = (project.Source as { BuildSpec: string }).BuildSpec;
  });

  describe('what it runs', () => {
    it('GIVEN the infrastructure dependencies WHEN installed THEN no install script of any package runs', () => {
      // Assess
      expect(buildSpec).toContain('npm ci --ignore-scripts');
      expect(buildSpec).not.toMatch(/npm (ci|install)(?! --ignore-scripts)/);
      expect(project.Environment).toMatchObject({
        EnvironmentVariables: expect.arrayContaining([
          { Name: 'NPM_CONFIG_IGNORE_SCRIPTS', Type: 'PLAINTEXT', Value: 'true' },
        ]),
      });
    });

    it('GIVEN cdk diff WHEN it runs THEN it uses the CLI of the lock file, creates no change set and prints no notices', () => {
      // Assess
      expect(buildSpec).toContain(
        'npx --no-install cdk diff \\"$STACK_NAME\\" -c imageTag=\\"$IMAGE_TAG\\" -c images=\\"$IMAGES_CONTEXT\\" --exclusively --no-change-set --no-notices 2>&1 | tee cdk-diff.txt',
      );
    });

    describe('the images being released', () => {
      /** Runs the build commands in bash with `npx` and `aws` standing in; returns what cdk was given. */
      function runBuild(releaseImages: string): {
        status: number | null;
        cdkArguments: string[];
        output: string;
      } {
        const { build } = (JSON.parse(buildSpec) as { phases: { build: { commands: string[] } } }).phases;
        const stubs = ['npx() { printf "%s\\n" "$@" > "$CDK_ARGS"; echo "Stack $2"; }', 'aws() { :; }'].join(
          '\n',
        );
        const directory = mkdtempSync(join(tmpdir(), 'diff-build-'));
        const argsFile = join(directory, 'cdk-args');
        const result = spawnSync('bash', ['-c', `${stubs}\n${build.commands.join('\n')}`], {
          cwd: directory,
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH,
            CDK_ARGS: argsFile,
            STACK_NAME: 'Afu9EcsStack',
            IMAGE_TAG: 'stage-3f9c2ab',
            RELEASE_IMAGES: releaseImages,
            DIFF_OBJECT_KEY: 'diffs/x.txt',
            DIFF_BUCKET: 'bucket',
          },
        });
        const cdkArguments = existsSync(argsFile) ? readFileSync(argsFile, 'utf8').trim().split('\n') : [];
        rmSync(directory, { recursive: true });
        return { status: result.status, cdkArguments, output: result.stdout + result.stderr };
      }

      it('GIVEN the request images WHEN the build runs THEN cdk diff gets each pinned image as container → repository@digest', () => {
        // Prepare
        const digest = 'sha256:4f1c2b7a9e0d3c6b5a4f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2';
        const images = [
          { container: 'control-center', repository: 'afu9/control-center', tag: 'stage-3f9c2ab', digest },
          { container: 'mcp-github', repository: 'afu9/mcp-github', tag: 'stage-3f9c2ab', digest },
          // Not pinned (its lookup failed): left to the app's fallback, the live image parameter.
          { container: 'mcp-deploy', repository: 'afu9/mcp-deploy', tag: 'stage-3f9c2ab' },
        ];

        // Act
        const { status, cdkArguments } = runBuild(JSON.stringify(images));

        // Assess
        expect(status).toBe(0);
        expect(cdkArguments).toEqual([
          '--no-install',
          'cdk',
          'diff',
          'Afu9EcsStack',
          '-c',
          'imageTag=stage-3f9c2ab',
          '-c',
          `images=${JSON.stringify({
            'control-center': `afu9/control-center@${digest}`,
            'mcp-github': `afu9/mcp-github@${digest}`,
          })}`,
          '--exclusively',
          '--no-change-set',
          '--no-notices',
        ]);
      });

      it('GIVEN an image list that is not JSON WHEN the build runs THEN it fails before cdk diff, naming what it got', () => {
        // Act
        const { status, cdkArguments, output } = runBuild('stage-3f9c2ab');

        // Assess
        expect(status).not.toBe(0);
        expect(cdkArguments).toEqual([]);
        expect(output).toContain(
          'RELEASE_IMAGES is not the image list the state machine sends: stage-3f9c2ab',
        );
      });
    });

    it('GIVEN the build environment WHEN synthesized THEN it holds no secret or parameter, only plain settings', () => {
      // Act
      const variables = (project.Environment as { EnvironmentVariables: { Name: string; Type: string }[] })
        .EnvironmentVariables;

      // Assess
      expect(variables.map((variable) => variable.Name).sort()).toEqual(
        ['CI', 'DIFF_BUCKET', 'NPM_CONFIG_IGNORE_SCRIPTS'].sort(),
      );
      expect(variables.every((variable) => variable.Type === 'PLAINTEXT')).toBe(true);
      expect(project.Environment).toMatchObject({ PrivilegedMode: false });
    });
  });

  describe('what its role may do', () => {
    it('GIVEN the build role WHEN synthesized THEN it may do only what the build needs', () => {
      // Act
      const actions = statementsOfRole(template, roleOf(template, 'AWS::CodeBuild::Project')).flatMap(
        actionsOf,
      );

      // Assess
      expect(actions.filter((action) => !ALLOWED_BUILD_ACTIONS.has(action))).toEqual([]);
    });

    it('GIVEN the build role WHEN synthesized THEN the only role it may assume is the CDK lookup role', () => {
      // Act
      const assumes = statementsOfRole(template, roleOf(template, 'AWS::CodeBuild::Project')).filter(
        (statement) => actionsOf(statement).some((action) => action.startsWith('sts:')),
      );

      // Assess
      expect(assumes).toHaveLength(1);
      expect(actionsOf(assumes[0]!)).toEqual(['sts:AssumeRole']);
      expect(resourcesOf(assumes[0]!)).toHaveLength(1);
      expect(JSON.stringify(resourcesOf(assumes[0]!))).toMatch(/:role\/cdk-hnb659fds-lookup-role-"/);
    });

    it('GIVEN the build output key WHEN synthesized THEN it is the build own key, not the notification topic key', () => {
      // Prepare
      const topicKey = (
        Object.values(template.findResources('AWS::SNS::Topic') as Resources)[0]!.Properties
          .KmsMasterKeyId as {
          'Fn::GetAtt': [string, string];
        }
      )['Fn::GetAtt'][0];

      // Act
      const buildKey = (project.EncryptionKey as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const keyStatements = statementsOfRole(template, roleOf(template, 'AWS::CodeBuild::Project')).filter(
        (statement) => actionsOf(statement).some((action) => action.startsWith('kms:')),
      );

      // Assess
      expect(buildKey).not.toBe(topicKey);
      expect(keyStatements.flatMap(resourcesOf)).toEqual([{ 'Fn::GetAtt': [buildKey, 'Arn'] }]);
    });
  });

  it('GIVEN the RunCdkDiff task timeout in the ASL WHEN synthesized THEN queued plus build timeout end the build first, with five minutes to spare', () => {
    // Prepare
    const asl = JSON.parse(readFileSync(definitionPath, 'utf8')) as {
      States: Record<string, { TimeoutSeconds?: number }>;
    };
    const taskTimeoutSeconds = asl.States.RunCdkDiff!.TimeoutSeconds!;

    // Act
    const buildLimitSeconds =
      ((project.QueuedTimeoutInMinutes as number) + (project.TimeoutInMinutes as number)) * 60;

    // Assess
    expect(taskTimeoutSeconds).toBe(1800);
    expect(buildLimitSeconds + 300).toBeLessThanOrEqual(taskTimeoutSeconds);
  });
});
