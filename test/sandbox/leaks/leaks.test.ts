/**
 * Nothing leaked: every secret holds a distinctive marker value, every scenario runs, and nothing a
 * person or a log reader can see (log lines, every state's input and output, every Task's input and
 * result, notifications, bus events, the ledger table) carries a marker, plain or base64-encoded.
 * The smoke test calls nothing but the environment's configured base URL.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { environments } from '../../support/afu9-config';
import { createSimulatedAccount } from '../../../sandbox/account';
import { runSimulation, type SimulationRun } from '../../../sandbox/runner';
import { NEW_STAGING_TAG, scenarios, type Scenario } from '../../../sandbox/scenarios';

/** One marker per secret key: a value no code path would produce by itself. */
const secretValues: Record<string, Record<string, string>> = {};
for (const secret of Object.values(environments).flatMap((env) => env.secrets)) {
  const slug = secret.name.replace(/[^a-z0-9]/gi, '');
  secretValues[secret.name] = Object.fromEntries(
    [...secret.requiredKeys, ...secret.optionalKeys].map((key) => [key, `LEAKMARK${slug}${key}Q7z`]),
  );
}
const markers = Object.values(secretValues).flatMap((values) => Object.values(values));

/** A marker and its base64 forms at each of the three alignments it can take inside a longer text. */
function needlesFor(marker: string): string[] {
  const encoded = [0, 1, 2].map((shift) => {
    const text = Buffer.from('..'.slice(0, shift) + marker).toString('base64');
    // Drop the characters that also encode the padding before and the unknown bytes after.
    const start = Math.ceil((shift * 4) / 3);
    return text.slice(start, start + Math.floor((marker.length * 4) / 3) - 2);
  });
  return [marker, ...encoded];
}

interface Piece {
  readonly where: string;
  readonly text: string;
}

/** Everything a run shows anyone: logs, state and Task payloads, messages, events, the ledger. */
function piecesOf(name: string, run: SimulationRun): Piece[] {
  const json = (value: unknown) => JSON.stringify(value ?? null);
  const pieces: Piece[] = run.logLines.map((line, index) => ({
    where: `${name} log line ${index}`,
    text: line,
  }));
  for (const execution of run.executions) {
    const at = `${name} ${execution.name}`;
    pieces.push({ where: `${at} input`, text: json(execution.input) });
    pieces.push({ where: `${at} output`, text: json(execution.output) });
    pieces.push({ where: `${at} error`, text: json(execution.error) });
    for (const state of execution.states) {
      pieces.push({ where: `${at} ${state.name} input`, text: json(state.input) });
      pieces.push({ where: `${at} ${state.name} output`, text: json(state.output) });
      pieces.push({ where: `${at} ${state.name} error`, text: json(state.error) });
      for (const invocation of state.invocations) {
        pieces.push({
          where: `${at} ${state.name} task call`,
          text: json([invocation.input, invocation.output, invocation.error]),
        });
      }
    }
  }
  run.published.forEach((message, index) =>
    pieces.push({ where: `${name} SNS ${index}`, text: json(message) }),
  );
  run.busEvents.forEach((event, index) => pieces.push({ where: `${name} bus ${index}`, text: json(event) }));
  run.ledgerItems.forEach((item, index) =>
    pieces.push({ where: `${name} table ${index}`, text: json(item) }),
  );
  pieces.push({ where: `${name} --json document`, text: json(run.document) });
  return pieces;
}

function hits(pieces: readonly Piece[]): string[] {
  const needles = markers.flatMap(needlesFor);
  return pieces.flatMap((piece) =>
    needles.filter((needle) => piece.text.includes(needle)).map((needle) => `${piece.where}: ${needle}`),
  );
}

function withMarkers(scenario: Scenario): Scenario {
  return { ...scenario, world: { ...scenario.world, secretValues } };
}

const runs = new Map<string, SimulationRun>();

beforeAll(async () => {
  for (const scenario of scenarios)
    runs.set(scenario.name, await runSimulation({ scenario: withMarkers(scenario) }));
  const happy = scenarios.find((scenario) => scenario.name === 'happy')!;
  runs.set(
    'input naming another smoke URL',
    await runSimulation({
      scenario: withMarkers(happy),
      input: {
        environment: 'staging',
        imageTag: NEW_STAGING_TAG,
        requestedBy: 'jane.doe',
        baseUrl: 'http://127.0.0.1:9/elsewhere',
        smokeUrl: 'http://127.0.0.1:9/elsewhere',
      },
    }),
  );
}, 60_000);

describe('nothing leaked', () => {
  it('the markers are what Secrets Manager holds', async () => {
    // Prepare
    const account = await createSimulatedAccount({ secretValues });
    try {
      // Act
      const answer = await account.clients.secretsManager.send(
        new GetSecretValueCommand({ SecretId: 'afu9/database' }),
      );

      // Assess
      expect(JSON.parse(answer.SecretString ?? '{}')).toEqual(secretValues['afu9/database']);
    } finally {
      await account.close();
    }
  });

  it('the scan finds a marker, plain or inside base64, wherever it is', () => {
    // Prepare
    const marker = markers[0]!;
    const planted: Piece[] = [
      { where: 'plain', text: `{"msg":"value ${marker}"}` },
      ...[0, 1, 2].map((shift) => ({
        where: `base64 shifted ${shift}`,
        text: Buffer.from(`${'ab'.slice(0, shift)}${marker}tail`).toString('base64'),
      })),
    ];

    // Act / Assess
    expect(planted.every((piece) => hits([piece]).length > 0)).toBe(true);
  });

  it('every scenario still reaches its outcome with the marker secrets', () => {
    for (const scenario of scenarios) {
      expect(runs.get(scenario.name)!.document.outcome).toBe(scenario.expected.outcome);
    }
  });

  it.each([...scenarios.map((scenario) => scenario.name), 'input naming another smoke URL'])(
    '%s: no log line, state, Task payload, notification, event or ledger item carries a secret',
    (name) => {
      // Act
      const found = hits(piecesOf(name, runs.get(name)!));

      // Assess
      expect(found).toEqual([]);
    },
  );

  it.each([...scenarios.map((scenario) => scenario.name), 'input naming another smoke URL'])(
    '%s: the smoke test calls only the configured base URL',
    (name) => {
      // Act
      const run = runs.get(name)!;

      // Assess
      for (const url of run.requests) expect(url.startsWith(`${run.liveServiceUrl}/`)).toBe(true);
    },
  );

  it('a run smoke-tests through the recorder; an input naming another URL is rejected before any request', () => {
    // Act
    const happy = runs.get('happy')!;
    const main = happy.executions[0]!;
    const smoke = main.states.find((state) => state.name === 'SmokeTest')!;

    // Assess
    expect(happy.requests.length).toBeGreaterThanOrEqual(5);
    const elsewhere = runs.get('input naming another smoke URL')!;
    expect(elsewhere.document.outcome).toBe('rejected');
    expect(elsewhere.requests).toEqual([]);
    expect(smoke.input).toMatchObject({ request: { environment: 'staging' } });
    expect(smoke.output).toMatchObject({ smoke: { passed: true } });
    expect(smoke.invocations[0]!.output).toMatchObject({ passed: true });
    expect(happy.busEvents.length).toBeGreaterThan(0);
    expect(happy.ledgerItems.length).toBeGreaterThan(0);
  });
});
