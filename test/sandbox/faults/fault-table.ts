/**
 * Runs a fault case and reads what a person would look at afterwards: where the execution ended,
 * the ledger record, the revision the load balancer serves, the messages sent, the service lock and,
 * for an infrastructure release, what became of each stack.
 * The fault table of docs/reliability.md is rendered from these results, never written by hand.
 */
import type { SimulatedExecution } from '../../../sandbox/run/execution';
import { runSimulation, type SimulationRun } from '../../../sandbox/runner';
import type { Expected, FaultCase } from './fault-cases';

export interface CaseResult extends Omit<Expected, 'terminalState' | 'serving' | 'lock'> {
  readonly terminalState: string;
  readonly serving: string;
  readonly lock: string;
}

export interface CaseRun {
  readonly result: CaseResult;
  readonly run: SimulationRun;
  /** The alarms whose notification reached the topic, in order (not part of the table). */
  readonly alarms: readonly string[];
}

/** CloudWatch's notifications carry the subject `ALARM: "<name>" in <region>`; the deployment's do not. */
function isAlarm(subject: string | undefined): boolean {
  return subject?.startsWith('ALARM: ') ?? false;
}

function ledgerRecordOf(run: SimulationRun, execution: SimulatedExecution) {
  return run.ledgerItems.find(
    (item) => String(item.sk).startsWith('DEPLOYMENT#') && item.deploymentId === execution.name,
  );
}

function servingOf(run: SimulationRun): string {
  if (run.servingTaskDefinition === null) return 'nothing (no healthy task)';
  return run.servingTaskDefinition === run.document.taskDefinitionBefore
    ? 'previous revision'
    : 'new revision';
}

function lockOf(run: SimulationRun): string {
  const lock = run.ledgerItems.find((item) => String(item.pk).startsWith('LOCK#'));
  if (!lock) return 'released';
  const holder = run.executions.find((execution) => execution.arn === lock.executionId);
  return holder && holder.status === 'RUNNING' ? 'held by a running execution' : 'left to an ended execution';
}

export async function runCase(faultCase: FaultCase): Promise<CaseRun> {
  const run = await runSimulation({
    scenario: faultCase.scenario,
    ...(faultCase.taskFaults ? { taskFaults: faultCase.taskFaults } : {}),
  });
  const main = run.executions[0]!;
  const record = ledgerRecordOf(run, main);
  return {
    run,
    result: {
      terminalState: main.status === 'RUNNING' ? 'still running' : (main.currentState ?? 'none'),
      outcome: record ? String(record.outcome) : 'no record',
      statesReached: record ? (record.statesReached as string[]) : [],
      serving: servingOf(run),
      notifications: run.published
        .filter((message) => !isAlarm(message.subject))
        .map((message) => message.attributes.outcome ?? '(no outcome)'),
      lock: lockOf(run),
      ...(run.document.stacks && { stacks: run.document.stacks.map((stack) => stack.status) }),
    },
    alarms: run.published
      .filter((message) => isAlarm(message.subject))
      .map((message) => String((JSON.parse(message.message) as { AlarmName?: unknown }).AlarmName)),
  };
}

function notificationsCell(outcomes: readonly string[]): string {
  if (outcomes.length === 0) return 'none';
  const counts = new Map<string, number>();
  for (const outcome of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  return [...counts].map(([outcome, count]) => `${count} × ${outcome}`).join(', ');
}

const header = [
  'Fault',
  'Where',
  'Terminal state',
  'Ledger record',
  'Serving at the end',
  'Notifications',
  'Lock',
  'Stacks',
];

/**
 * The docs/reliability.md table: one row per fault and result, the cases of one fault that end alike
 * merged into one row naming every place it was injected (rows in the order the cases first appear).
 */
export function renderFaultTable(rows: readonly { faultCase: FaultCase; result: CaseResult }[]): string {
  const merged = new Map<string, string[]>();
  for (const { faultCase, result } of rows) {
    const cells = [
      result.terminalState,
      result.outcome,
      result.serving,
      notificationsCell(result.notifications),
      result.lock,
      result.stacks?.join(', ') ?? '—',
    ];
    const key = [faultCase.fault, ...cells].join('|');
    const row = merged.get(key);
    if (row) row[1] = `${row[1]}, ${faultCase.at}`;
    else merged.set(key, [faultCase.fault, faultCase.at, ...cells]);
  }
  // Laid out as prettier lays out a Markdown table, so formatting the docs keeps it identical.
  const table = [header, ...merged.values()];
  const widths = header.map((_, column) => Math.max(3, ...table.map((cells) => cells[column]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...table.slice(1).map(line)].join(
    '\n',
  );
}
