/**
 * The timeline a person reads while `afu9-deploy simulate` runs: every state with its virtual time
 * since the start (`+00:03:12`) and what it decided, then the outcome and the SNS message.
 */
import type { SimulatedExecution, StateRecord } from '../run/execution';
import type { ProgressEvent } from '../run/progress';
import type { SimulationRun } from '../run/result';
import {
  describeState,
  displayStatus,
  formatSeconds,
  shortTaskDefinition,
  taskDefinitionPath,
} from './decisions';

function relativeTime(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return `+${[hours, minutes, seconds].map((n) => String(n).padStart(2, '0')).join(':')}`;
}

const STATE_WIDTH = 24;
const DETAIL_INDENT = ' '.repeat(11 + STATE_WIDTH + 2);

/**
 * One timeline line, `+00:03:12  UpdateService             SUCCEEDED task definition ...`: the
 * format `simulate` and `afu9-deploy start --follow` / `status` share (cli/execution-progress.ts).
 */
export function timelineLine(elapsedMs: number, what: string, detail: string): string {
  return `${relativeTime(elapsedMs).padEnd(10)} ${what.padEnd(STATE_WIDTH)}  ${detail}`.trimEnd();
}

/** A closed state's lines: its status and first decision line, then the other decision lines indented. */
export function stateTimelineLines(record: StateRecord, elapsedMs: number, label = ''): string[] {
  const [first = '', ...rest] = describeState(record).flatMap((line) => line.split('\n'));
  return [
    timelineLine(elapsedMs, `${label}${record.name}`, `${displayStatus(record).padEnd(9)} ${first}`),
    ...rest.map((detail) => `${DETAIL_INDENT}${detail}`),
  ];
}

/** Prints progress events as timeline lines, through `write` (stderr in the CLI). */
export class TimelinePrinter {
  private startMs = 0;
  private readonly labels = new Map<SimulatedExecution, string>();

  constructor(private readonly write: (text: string) => void) {}

  print(event: ProgressEvent): void {
    switch (event.kind) {
      case 'run-started':
        this.startMs = event.at;
        this.write(
          [
            `Scenario ${event.scenario}: ${event.summary}`,
            `Sandbox account ${event.accountId} (${event.region}), virtual clock at ${new Date(event.at).toISOString()}`,
            `Service ${event.serviceName} runs ${shortTaskDefinition(event.taskDefinition)}; ` +
              `live service at ${event.liveServiceUrl}`,
            '',
          ].join('\n') + '\n',
        );
        return;
      case 'execution-started': {
        const label = this.labels.size === 0 ? '' : `[#${this.labels.size + 1}] `;
        this.labels.set(event.execution, label);
        this.line(
          event.at,
          `${label}execution ${event.execution.name}`,
          `started by ${event.execution.trigger.description}`,
        );
        return;
      }
      case 'state': {
        // Choice and Pass states only route; the JSON document keeps them, the timeline does not.
        if (event.record.type === 'Choice' || event.record.type === 'Pass') return;
        const label = this.labels.get(event.execution) ?? '';
        const lines = stateTimelineLines(event.record, event.record.leftAtMs - this.startMs, label);
        this.write(lines.map((line) => `${line}\n`).join(''));
        return;
      }
      case 'execution-ended': {
        const label = this.labels.get(event.execution) ?? '';
        this.line(
          event.at,
          `${label}execution ended`,
          `${event.execution.status} in state ${event.execution.currentState}`,
        );
        return;
      }
      case 'note':
        this.line(event.at, '·', event.text);
        return;
    }
  }

  private line(atMs: number, what: string, detail: string): void {
    this.write(`${timelineLine(atMs - this.startMs, what, detail)}\n`);
  }
}

/** The result block: outcome, the service's revision before and after, every SNS message. */
export function renderOutcome(run: SimulationRun, wallSeconds: number): string {
  const doc = run.document;
  const lines = [
    `Outcome: ${doc.outcome} (${doc.status})${doc.rolledBack ? ', rolled back' : ''} after ` +
      `${formatSeconds(doc.virtualSeconds)} of virtual time (${wallSeconds.toFixed(1)} s wall)`,
    `Task definition: ${taskDefinitionPath(doc)}`,
  ];
  if (doc.executions.length > 1) {
    lines.push('Executions:');
    for (const execution of doc.executions) {
      lines.push(`  ${execution.name}: ${execution.outcome} (${execution.startedBy})`);
    }
  }
  if (doc.accessDenied.length > 0) {
    lines.push(
      `AccessDenied: ${doc.accessDenied.length} call(s) the template's policies do not allow (the rehearsal fails):`,
      ...doc.accessDenied.map(
        (denied) => `  ${denied.caller}: ${denied.action} on ${denied.resource} (${denied.decision})`,
      ),
    );
  }
  if (doc.notifications.length === 0) lines.push('Notifications: none');
  for (const notification of doc.notifications) {
    lines.push(
      '',
      `SNS: ${notification.subject}`,
      ...notification.message.split('\n').map((line) => `  ${line}`),
    );
  }
  return lines.join('\n');
}
