/**
 * `afu9-deploy approve|deny`: the decision goes to the approval URL as a SigV4-signed POST with the
 * caller's credentials (never a name of their choosing), and the URL's answer becomes the exit code.
 */
import { Readable } from 'node:stream';
import type { ApprovalClientDeps } from '../../../cli/approval-client';
import { realAwsDeps } from '../../../cli/aws-context';
import type { CliIo } from '../../../cli/command';
import { createDecisionCommand } from '../../../cli/commands/approve';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-central-1:123456789012:stateMachine:Afu9Deployment';
const EXECUTION_ARN =
  'arn:aws:states:eu-central-1:123456789012:execution:Afu9Deployment:staging-stage-9d1e0f4';
const APPROVAL_URL = 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-central-1.on.aws/';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: { AFU9_STATE_MACHINE_ARN: STATE_MACHINE_ARN, AFU9_APPROVAL_URL: APPROVAL_URL },
    stdin: Readable.from([]),
  };
  return { io: value, stdout: () => out.join(''), stderr: () => err.join('') };
}

interface Sent {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/** An approval URL answering `status` with `body`, keeping what it was sent. */
function approvalUrl(status: number, body: unknown) {
  const sent: Sent[] = [];
  const deps: ApprovalClientDeps = {
    credentials: () => async () => ({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-example' }),
    fetch: (async (url: string | URL | Request, init?: RequestInit) => {
      sent.push({
        url: String(url),
        headers: init?.headers as Record<string, string>,
        body: JSON.parse(String(init?.body)) as unknown,
      });
      return new Response(JSON.stringify(body), { status });
    }) as typeof fetch,
  };
  return { deps, sent };
}

const approval = {
  executionArn: EXECUTION_ARN,
  environment: 'staging',
  subject: { kind: 'image-release' },
  status: 'approved',
  approver: {
    arn: 'arn:aws:sts::123456789012:assumed-role/deployment-approver/jane.doe',
    accountId: '123456789012',
    userId: 'AROAEXAMPLE:jane.doe',
  },
  reason: 'CHG-7 reviewed',
  decidedAt: '2026-12-07T10:05:00.000Z',
  requestedAt: '2026-12-07T10:00:00.000Z',
  expiresAt: '2026-12-08T10:00:00.000Z',
};

function command(decision: 'approve' | 'deny', client: ApprovalClientDeps) {
  return createDecisionCommand(decision, { ...realAwsDeps, approvals: client });
}

describe('afu9-deploy approve|deny', () => {
  it('signs the decision with the caller credentials (SigV4, service lambda) and sends no identity of its own', async () => {
    // Prepare
    const url = approvalUrl(200, { outcome: 'recorded', message: 'Approved the image release.', approval });
    const cli = io();

    // Act
    const code = await command('approve', url.deps).run(
      ['staging-stage-9d1e0f4', '--reason', ' CHG-7 reviewed '],
      cli.io,
    );

    // Assess
    expect(code).toBe(0);
    const [request] = url.sent;
    expect(request?.url).toBe(APPROVAL_URL);
    expect(request?.body).toEqual({
      executionArn: EXECUTION_ARN,
      decision: 'approve',
      reason: 'CHG-7 reviewed',
    });
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE\/\d{8}\/eu-central-1\/lambda\/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$/,
    );
    expect(cli.stdout()).toContain(
      'approver:  arn:aws:sts::123456789012:assumed-role/deployment-approver/jane.doe',
    );
  });

  it.each([
    [409, 1, 'The approval of the image release was already decided: approved by ...'],
    [404, 1, 'Execution ... has not asked for an approval'],
    [503, 3, 'The decision could not be handed to the paused workflow'],
  ] as const)('answered HTTP %i, exits %i and says why on stderr', async (status, exitCode, message) => {
    const url = approvalUrl(status, { outcome: status === 503 ? 'unavailable' : 'refused', message });
    const cli = io();

    const code = await command('deny', url.deps).run([EXECUTION_ARN, '--reason', 'freeze'], cli.io);

    expect(code).toBe(exitCode);
    expect(cli.stderr()).toContain(message);
  });

  it("says what a 403 from Lambda means: the caller's role lacks the approvers policy (exit 3)", async () => {
    const url = approvalUrl(403, { Message: 'Forbidden' });
    const cli = io();

    const code = await command('approve', url.deps).run([EXECUTION_ARN, '--reason', 'x'], cli.io);

    expect(code).toBe(3);
    expect(cli.stderr()).toContain("your role needs the stack's approvers policy (output ApproversPolicyArn");
  });

  it.each([
    [['staging-stage-9d1e0f4'], '--reason "<why>" is required'],
    [['staging-stage-9d1e0f4', '--reason', '   '], '--reason "<why>" is required'],
    [['--reason', 'x'], 'name exactly one execution'],
  ])('refuses %j as a usage error before sending anything', async (argv, message) => {
    const url = approvalUrl(200, {});
    const cli = io();

    const code = await command('approve', url.deps).run(argv, cli.io);

    expect(code).toBe(2);
    expect(cli.stderr()).toContain(message);
    expect(url.sent).toHaveLength(0);
  });
});
