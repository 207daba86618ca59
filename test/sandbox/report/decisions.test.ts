/**
 * What a person reads of a run, in the timeline (stderr) and the HTML report alike: each state with
 * what it decided; a safety-net wake during a long rollout as progress, not as a caught error; and
 * the service's revisions through the run, `A → B → A (rolled back)`.
 */
import { renderHtmlReport } from '../../../sandbox/html-report';
import { taskDefinitionPath } from '../../../sandbox/report/decisions';
import { renderOutcome, TimelinePrinter } from '../../../sandbox/report/timeline';
import { runSimulation, type SimulationRun } from '../../../sandbox/runner';
import { findScenario } from '../../../sandbox/scenarios';

interface Observed {
  readonly run: SimulationRun;
  readonly timeline: string[];
  readonly html: string;
}

const observed = new Map<string, Observed>();

async function observe(name: string): Promise<Observed> {
  const cached = observed.get(name);
  if (cached) return cached;
  let text = '';
  const printer = new TimelinePrinter((chunk) => (text += chunk));
  const run = await runSimulation({
    scenario: findScenario(name)!,
    onProgress: (event) => printer.print(event),
  });
  const result = {
    run,
    timeline: text.split('\n'),
    html: renderHtmlReport(run.document, run.definition),
  };
  observed.set(name, result);
  return result;
}

const ARN = 'arn:aws:ecs:eu-central-1:123456789012:task-definition/afu9-control-center-staging';

describe('a safety-net wake during a long rollout reads as progress', () => {
  it('timeline: each wake WAITED with no event yet, each poll after it checked: still rolling out', async () => {
    // Act
    const { timeline } = await observe('timeout');
    const wakes = timeline.filter((line) => / WaitForDeploymentEvent /.test(line));
    const polls = timeline.filter((line) => / PollStabilization /.test(line));

    // Assess
    expect(wakes.length).toBeGreaterThanOrEqual(6);
    for (const wake of wakes) {
      expect(wake).toMatch(
        /WaitForDeploymentEvent {4}WAITED {4}no event yet after 5 min 00 s: the safety net checks the rollout$/,
      );
    }
    expect(polls.slice(0, -1).every((poll) => poll.includes('SUCCEEDED checked: still rolling out: '))).toBe(
      true,
    );
    expect(timeline.join('\n')).not.toMatch(/CAUGHT|States\.Timeout/);
  });

  it('report: the wake is drawn as waiting, never as a red bar or a failed state', async () => {
    // Act
    const { html } = await observe('timeout');
    const waitRows =
      html.match(/<tr class="state-row">(?:(?!<\/tr>).)*WaitForDeploymentEvent(?:(?!<\/tr>).)*<\/tr>/g) ?? [];

    // Assess
    expect(waitRows.length).toBeGreaterThanOrEqual(6);
    for (const row of waitRows) {
      expect(row).toContain('<span class="waited"');
      expect(row).toContain('WAITED');
      expect(row).not.toContain('failed');
    }
    expect(html).toContain('class="state waited" data-state="WaitForDeploymentEvent"');
    expect(html).toContain('no event yet after 5 min 00 s: the safety net checks the rollout');
  });

  it("the JSON document keeps Step Functions' status, with the error the Catch handled", async () => {
    // Act
    const { run } = await observe('timeout');
    const wake = run.document.states.find((state) => state.name === 'WaitForDeploymentEvent');

    // Assess
    expect(wake).toMatchObject({ status: 'CAUGHT', error: 'States.Timeout' });
  });
});

describe('the revisions through the run', () => {
  it('after a rollback: A → B → A (rolled back), in the summary and the report', async () => {
    // Act
    const { run, html } = await observe('timeout');

    // Assess
    expect(run.document.taskDefinitionDeployed).toBe(`${ARN}:42`);
    expect(renderOutcome(run, 1)).toContain(
      'Task definition: afu9-control-center-staging:41 → :42 → :41 (rolled back)',
    );
    expect(html).toContain(
      '<dd class="revisions">afu9-control-center-staging:41 → :42 → :41 (rolled back)</dd>',
    );
  });

  it('after a deployment: A → B', async () => {
    // Act
    const { run } = await observe('happy');

    // Assess
    expect(renderOutcome(run, 1)).toContain('Task definition: afu9-control-center-staging:41 → :42\n');
  });

  it.each([
    [
      'nothing deployed',
      { taskDefinitionDeployed: null, taskDefinitionAfter: `${ARN}:41`, outcome: 'blocked' as const },
      'afu9-control-center-staging:41 (unchanged)',
    ],
    [
      'a refused rollback',
      { taskDefinitionDeployed: null, taskDefinitionAfter: `${ARN}:41`, outcome: 'rollback-failed' as const },
      'afu9-control-center-staging:41 (unchanged, rollback failed)',
    ],
    [
      'a failed rollback left on the new revision',
      {
        taskDefinitionDeployed: `${ARN}:42`,
        taskDefinitionAfter: `${ARN}:42`,
        outcome: 'rollback-failed' as const,
      },
      'afu9-control-center-staging:41 → :42 (rollback failed)',
    ],
  ])('%s', (_what, document, expected) => {
    // Act
    const path = taskDefinitionPath({ taskDefinitionBefore: `${ARN}:41`, ...document });

    // Assess
    expect(path).toBe(expected);
  });
});

describe('the report says what each state decided', () => {
  it('with the same decision text as the timeline: diff verdict, checks, before → after, rollout, smoke, rollback', async () => {
    // Act
    const { run, html, timeline } = await observe('smoke-fail');

    // Assess
    for (const expected of [
      'diff gate PASS: 0 blocking, 0 warnings, 1 safe',
      '15/15 checks OK',
      `task definition afu9-control-center-staging:41 → afu9-control-center-staging:42, ECS deployment`,
      'COMPLETED: Deployment',
      'smoke test FAILED against',
      'FAIL readiness 503',
      'rolling back: afu9-control-center-staging:42 → afu9-control-center-staging:41',
    ]) {
      expect(html).toContain(expected);
      expect(timeline.join('\n')).toContain(expected);
    }
    for (const state of run.document.states.filter((entry) => entry.decision.length > 0)) {
      expect(html).toContain(`<tr class="decision" data-state="${state.name}"><td></td><td colspan="4">`);
    }
  });
});
