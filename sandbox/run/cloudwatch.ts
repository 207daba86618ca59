/**
 * A minimal CloudWatch for the stack's alarms: the metrics the sandbox produces (function errors,
 * failed Task invocations, undeliverable events, queue messages, timed-out executions) recorded as
 * they happen, and each alarm of the template evaluated against them the moment a datapoint arrives.
 * An alarm reading a metric, statistic or expression the sandbox cannot produce is "not evaluated",
 * and says why: it is listed, never silently taken as quiet.
 */
import type { AlarmMetric, AlarmQuery, DeployedAlarm } from '../assembly/cloud-assembly';
import type { VirtualClock } from '../account/virtual-clock';

/**
 * The metrics the sandbox produces, by `<namespace>/<name>`. Throttles stay at zero: the sandbox has
 * no concurrency limits, so nothing is ever throttled. Not produced: ExecutionsTimedOut and
 * ExecutionsAborted (the sandbox applies no state machine timeout and stops no execution).
 */
const PRODUCED_METRICS = new Set([
  'AWS/Lambda/Errors',
  'AWS/Lambda/Throttles',
  'AWS/Lambda/DestinationDeliveryFailures',
  'AWS/States/LambdaFunctionsFailed',
  'AWS/States/LambdaFunctionsTimedOut',
  'AWS/Events/FailedInvocations',
  'AWS/Events/InvocationsFailedToBeSentToDlq',
  'AWS/SQS/NumberOfMessagesSent',
  'AWS/SQS/ApproximateNumberOfMessagesVisible',
]);

/** Metrics that are a level read at evaluation time rather than a count of what happened. */
const GAUGES = new Set(['AWS/SQS/ApproximateNumberOfMessagesVisible']);

const COMPARISONS: Readonly<
  Record<string, { test: (value: number, threshold: number) => boolean; words: string }>
> = {
  GreaterThanOrEqualToThreshold: { test: (v, t) => v >= t, words: 'greater than or equal to' },
  GreaterThanThreshold: { test: (v, t) => v > t, words: 'greater than' },
  LessThanThreshold: { test: (v, t) => v < t, words: 'less than' },
  LessThanOrEqualToThreshold: { test: (v, t) => v <= t, words: 'less than or equal to' },
};

/** CloudWatch's display names of regions, as alarm notifications carry them. */
const REGION_NAMES: Readonly<Record<string, string>> = {
  'eu-central-1': 'EU (Frankfurt)',
  'eu-west-1': 'EU (Ireland)',
  'us-east-1': 'US East (N. Virginia)',
  'us-west-2': 'US West (Oregon)',
};

export interface MetricId {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

export interface AlarmStatus {
  readonly name: string;
  readonly state: 'OK' | 'ALARM';
  /** Why the sandbox cannot evaluate it; absent when it is evaluated. */
  readonly notEvaluated?: string;
  /** How many times it went to ALARM during the run. */
  readonly timesInAlarm: number;
}

/** What an alarm going to ALARM sends to each of its actions: SNS's subject and CloudWatch's message. */
export interface AlarmNotification {
  readonly alarm: DeployedAlarm;
  readonly subject: string;
  readonly message: string;
}

interface Datapoint {
  readonly key: string;
  readonly atMs: number;
  readonly value: number;
}

interface AlarmTrack {
  readonly alarm: DeployedAlarm;
  readonly notEvaluated?: string;
  state: 'OK' | 'ALARM';
  /** When the alarm last saw its metric breach; a whole period without one returns it to OK. */
  lastBreachMs?: number;
  timesInAlarm: number;
}

function keyOf(metric: MetricId): string {
  const dimensions = Object.entries(metric.dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
  return `${metric.namespace}/${metric.metricName}|${dimensions}`;
}

function metricPath(metric: AlarmMetric): string {
  return `${metric.namespace}/${metric.metricName}`;
}

/** Why the sandbox cannot evaluate the alarm, or undefined when it can. */
function whyNotEvaluated(alarm: DeployedAlarm): string | undefined {
  if (!(alarm.comparisonOperator in COMPARISONS))
    return `comparison ${alarm.comparisonOperator} is not modelled`;
  if (alarm.evaluationPeriods !== 1 || (alarm.datapointsToAlarm ?? 1) !== 1) {
    return 'only alarms on one datapoint of one period are modelled';
  }
  if (alarm.treatMissingData !== 'notBreaching') {
    return `TreatMissingData ${alarm.treatMissingData} is not modelled (only notBreaching)`;
  }
  const metrics: { metric: AlarmMetric; stat: string }[] = alarm.single
    ? [{ metric: alarm.single.metric, stat: alarm.single.statistic }]
    : (alarm.queries ?? []).flatMap((query) => ('metric' in query ? [query] : []));
  for (const { metric, stat } of metrics) {
    if (!PRODUCED_METRICS.has(metricPath(metric)))
      return `the sandbox does not produce ${metricPath(metric)}`;
    if (stat !== 'Sum' && stat !== 'Maximum') return `statistic ${stat} is not modelled`;
  }
  if (alarm.queries) {
    const returned = alarm.queries.filter((query) => query.returnData);
    const expression =
      returned.length === 1 && 'expression' in returned[0]! ? returned[0].expression : undefined;
    if (!expression || !sumTerms(expression)) {
      return 'only an expression that adds metrics (a + FILL(b, 0) + ...) is modelled';
    }
  }
  return undefined;
}

interface SumTerm {
  readonly id: string;
  /** `FILL(id, 0)`: a period without a datapoint reads as 0. */
  readonly filledWithZero: boolean;
}

/** The terms of `a + FILL(b, 0) + ...`; undefined for any other expression. */
function sumTerms(expression: string): SumTerm[] | undefined {
  const terms: SumTerm[] = [];
  for (const part of expression.split('+')) {
    const filled = /^\s*FILL\(\s*([a-z]\w*)\s*,\s*0\s*\)\s*$/i.exec(part);
    const plain = /^\s*([a-z]\w*)\s*$/i.exec(part);
    if (filled) terms.push({ id: filled[1]!, filledWithZero: true });
    else if (plain && !/^FILL$/i.test(plain[1]!)) terms.push({ id: plain[1]!, filledWithZero: false });
    else return undefined;
  }
  return terms;
}

export class SimulatedCloudWatch {
  private readonly datapoints: Datapoint[] = [];
  private readonly tracks: AlarmTrack[];

  constructor(
    alarms: readonly DeployedAlarm[],
    private readonly clock: VirtualClock,
    private readonly region: string,
    private readonly accountId: string,
    /** The current value of a gauge (a queue's visible messages). */
    private readonly gauge: (metric: MetricId) => number,
    /** Sends an alarm's notification to its actions (authorizing each delivery). */
    private readonly notify: (notification: AlarmNotification) => void,
  ) {
    this.tracks = alarms.map((alarm) => {
      const notEvaluated = whyNotEvaluated(alarm);
      return { alarm, state: 'OK', timesInAlarm: 0, ...(notEvaluated ? { notEvaluated } : {}) };
    });
  }

  /** Records one datapoint of a count metric (now, or at `atMs` in the past), then evaluates the alarms. */
  record(metric: MetricId, value = 1, atMs = this.clock.nowMillis()): void {
    this.datapoints.push({ key: keyOf(metric), atMs, value });
    this.evaluate();
  }

  /** Evaluates every alarm now (after a gauge changed, say). */
  evaluate(): void {
    const nowMs = this.clock.nowMillis();
    for (const track of this.tracks) {
      if (track.notEvaluated) continue;
      const value = this.valueOf(track.alarm, nowMs);
      const breaching =
        value !== undefined &&
        COMPARISONS[track.alarm.comparisonOperator]!.test(value, track.alarm.threshold);
      // Between two evaluations a whole period without a breach brought the alarm back to OK.
      if (
        track.state === 'ALARM' &&
        nowMs - (track.lastBreachMs ?? nowMs) >= this.periodOf(track.alarm) * 1000
      ) {
        track.state = 'OK';
      }
      if (!breaching) continue;
      track.lastBreachMs = nowMs;
      if (track.state === 'ALARM') continue;
      track.state = 'ALARM';
      track.timesInAlarm += 1;
      this.notify(this.notification(track.alarm, value!, nowMs));
    }
  }

  statuses(): AlarmStatus[] {
    return this.tracks.map((track) => ({
      name: track.alarm.name,
      state: track.state,
      timesInAlarm: track.timesInAlarm,
      ...(track.notEvaluated ? { notEvaluated: track.notEvaluated } : {}),
    }));
  }

  private periodOf(alarm: DeployedAlarm): number {
    if (alarm.single) return alarm.single.period;
    return Math.max(...(alarm.queries ?? []).map((query) => ('period' in query ? query.period : 0)));
  }

  /** The alarm's value over the period ending now; undefined when no metric it reads has data. */
  private valueOf(alarm: DeployedAlarm, nowMs: number): number | undefined {
    if (alarm.single)
      return this.statistic(alarm.single.metric, alarm.single.statistic, alarm.single.period, nowMs);
    const queries = alarm.queries ?? [];
    const expression = queries.find((query) => query.returnData && 'expression' in query);
    const terms = expression && 'expression' in expression ? sumTerms(expression.expression) : undefined;
    let sum = 0;
    for (const term of terms ?? []) {
      const query = queries.find(
        (candidate): candidate is Extract<AlarmQuery, { metric: AlarmMetric }> =>
          candidate.id === term.id && 'metric' in candidate,
      );
      const value = query && this.statistic(query.metric, query.stat, query.period, nowMs);
      // A sum has no value where a term has none, unless the term is FILLed.
      if (value === undefined && !term.filledWithZero) return undefined;
      sum += value ?? 0;
    }
    return sum;
  }

  private statistic(metric: AlarmMetric, stat: string, period: number, nowMs: number): number | undefined {
    if (GAUGES.has(metricPath(metric))) return this.gauge(metric);
    const key = keyOf(metric);
    const values = this.datapoints
      .filter((point) => point.key === key && point.atMs > nowMs - period * 1000 && point.atMs <= nowMs)
      .map((point) => point.value);
    if (values.length === 0) return undefined;
    return stat === 'Maximum' ? Math.max(...values) : values.reduce((sum, value) => sum + value, 0);
  }

  private notification(alarm: DeployedAlarm, value: number, nowMs: number): AlarmNotification {
    const comparison = COMPARISONS[alarm.comparisonOperator]!;
    const regionName = REGION_NAMES[this.region] ?? this.region;
    const at = new Date(nowMs);
    const shortTime = `${pad(at.getUTCDate())}/${pad(at.getUTCMonth() + 1)}/${pad(at.getUTCFullYear() % 100)} ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}`;
    const message = {
      AlarmName: alarm.name,
      AlarmDescription: alarm.description,
      AWSAccountId: this.accountId,
      NewStateValue: 'ALARM',
      NewStateReason:
        `Threshold Crossed: 1 out of the last 1 datapoints [${value.toFixed(1)} (${shortTime})] was ` +
        `${comparison.words} the threshold (${alarm.threshold.toFixed(1)}) (minimum 1 datapoint for OK -> ALARM transition).`,
      StateChangeTime: at.toISOString().replace('Z', '+0000'),
      Region: regionName,
      AlarmArn: alarm.arn,
      OldStateValue: 'OK',
      OKActions: [],
      AlarmActions: alarm.alarmActions,
      InsufficientDataActions: [],
      Trigger: trigger(alarm),
    };
    return {
      alarm,
      subject: `ALARM: "${alarm.name}" in ${regionName}`.slice(0, 100),
      message: JSON.stringify(message),
    };
  }
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

function dimensionList(metric: AlarmMetric) {
  return Object.entries(metric.dimensions).map(([name, value]) => ({ value, name }));
}

/** The `Trigger` of CloudWatch's alarm message: the metric and statistic, or the metric-math queries. */
function trigger(alarm: DeployedAlarm): Record<string, unknown> {
  const common = {
    EvaluationPeriods: alarm.evaluationPeriods,
    ComparisonOperator: alarm.comparisonOperator,
    Threshold: alarm.threshold,
    TreatMissingData: alarm.treatMissingData,
    EvaluateLowSampleCountPercentile: '',
  };
  if (alarm.single) {
    const { metric, statistic, period } = alarm.single;
    return {
      MetricName: metric.metricName,
      Namespace: metric.namespace,
      StatisticType: 'Statistic',
      Statistic: statistic.toUpperCase(),
      Unit: null,
      Dimensions: dimensionList(metric),
      Period: period,
      ...common,
    };
  }
  return {
    Period: Math.max(...(alarm.queries ?? []).map((query) => ('period' in query ? query.period : 0))),
    ...common,
    Metrics: (alarm.queries ?? []).map((query) =>
      'metric' in query
        ? {
            Id: query.id,
            MetricStat: {
              Metric: {
                Dimensions: dimensionList(query.metric),
                MetricName: query.metric.metricName,
                Namespace: query.metric.namespace,
              },
              Period: query.period,
              Stat: query.stat,
            },
            ReturnData: query.returnData,
          }
        : {
            Expression: query.expression,
            Id: query.id,
            ...(query.label !== undefined ? { Label: query.label } : {}),
            ReturnData: query.returnData,
          },
    ),
  };
}
