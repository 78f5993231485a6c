/**
 * One workflow instance: input, output, custom status, failure with stack, a timeline of every step,
 * the raw history, and the actions (terminate, suspend, resume, raise event, purge, run again, and
 * rerun from a step with an edited input).
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { href, instanceHref, navigate } from '../../router.js';
import { Badge, Empty, ErrorBox, Json, Link, Loading, Section, Time, formatDuration, prettyJson } from '../../ui/ui.js';
import type { InstanceAction } from './data.js';
import { instanceDetails, useInstance, useInstanceAction } from './data.js';
import type { StepFailure, TimelineStep } from './timeline.js';
import { buildTimeline, parentOf } from './timeline.js';

function Failure({ failure }: { failure: StepFailure | undefined }) {
  if (!failure) return null;
  return (
    <div className="failure" role="note">
      <strong>{failure.errorType ?? 'Error'}</strong>: {failure.errorMessage}
      {failure.stackTrace ? <pre className="json">{failure.stackTrace}</pre> : null}
    </div>
  );
}

/** A step that can be rerun from: an activity or a child workflow. */
type RerunnableStep = Extract<TimelineStep, { kind: 'activity' | 'child' }>;

function StepRow({ step, sidecar, onRerun }: { step: TimelineStep; sidecar: string; onRerun?: ((step: RerunnableStep) => void) | undefined }) {
  switch (step.kind) {
    case 'activity':
      return (
        <tr className={`step step-${step.status}`} data-step="activity" data-event-id={step.id}>
          <td>
            <span className="step-kind">activity</span>
          </td>
          <td>
            <strong>{step.name}</strong> <Badge value={step.status === 'completed' ? 'COMPLETED' : step.status === 'failed' ? 'FAILED' : 'RUNNING'} />
            {onRerun ? (
              <div>
                <button type="button" className="link small" onClick={() => onRerun(step)} aria-label={`Rerun from ${step.name} (step ${step.id})`}>
                  Rerun from here
                </button>
              </div>
            ) : null}
          </td>
          <td>
            <Time iso={step.start} precise />
          </td>
          <td>{formatDuration(step.durationMs)}</td>
          <td>{step.attempts}</td>
          <td>
            <Json text={step.input} label={`input of ${step.name}`} />
          </td>
          <td>
            <Json text={step.output} label={`output of ${step.name}`} />
            <Failure failure={step.failure} />
          </td>
        </tr>
      );
    case 'child':
      return (
        <tr className={`step step-${step.status}`} data-step="child" data-event-id={step.id}>
          <td>
            <span className="step-kind">child workflow</span>
          </td>
          <td>
            <strong>{step.name}</strong> <Link to={instanceHref(sidecar, step.instanceId)}>{step.instanceId}</Link>
            {onRerun ? (
              <div>
                <button type="button" className="link small" onClick={() => onRerun(step)} aria-label={`Rerun from ${step.name} (step ${step.id})`}>
                  Rerun from here
                </button>
              </div>
            ) : null}
          </td>
          <td>
            <Time iso={step.start} precise />
          </td>
          <td>{formatDuration(step.durationMs)}</td>
          <td>1</td>
          <td>
            <Json text={step.input} />
          </td>
          <td>
            <Json text={step.output} />
            <Failure failure={step.failure} />
          </td>
        </tr>
      );
    case 'timer':
      return (
        <tr className="step" data-step="timer">
          <td>
            <span className="step-kind">timer</span>
          </td>
          <td>
            fires at <Time iso={step.fireAt} /> <Badge value={step.status === 'fired' ? 'COMPLETED' : 'RUNNING'} title={step.status} />
          </td>
          <td>
            <Time iso={step.start} precise />
          </td>
          <td>{step.firedAt ? formatDuration(Date.parse(step.firedAt) - Date.parse(step.start)) : '—'}</td>
          <td>—</td>
          <td colSpan={2}>{step.firedAt ? <>fired <Time iso={step.firedAt} /></> : 'waiting'}</td>
        </tr>
      );
    case 'event-raised':
    case 'event-sent':
      return (
        <tr className="step" data-step={step.kind}>
          <td>
            <span className="step-kind">{step.kind === 'event-raised' ? 'event raised' : 'event sent'}</span>
          </td>
          <td>
            <strong>{step.name}</strong>
            {step.kind === 'event-sent' ? (
              <>
                {' '}
                → <Link to={instanceHref(sidecar, step.instanceId)}>{step.instanceId}</Link>
              </>
            ) : null}
          </td>
          <td>
            <Time iso={step.at} precise />
          </td>
          <td>—</td>
          <td>—</td>
          <td colSpan={2}>
            <Json text={step.input} label={`payload of ${step.name}`} />
          </td>
        </tr>
      );
    case 'lifecycle':
      return (
        <tr className="step lifecycle" data-step="lifecycle">
          <td>
            <span className="step-kind">workflow</span>
          </td>
          <td>{step.what}</td>
          <td>
            <Time iso={step.at} precise />
          </td>
          <td colSpan={4}>{step.detail ? <Json text={step.detail} /> : null}</td>
        </tr>
      );
  }
}

/**
 * Rerun from a step: the step's input in a JSON editor (prefilled with what it was called with) and
 * an optional id for the new instance.
 */
function RerunForm({
  step,
  disabled,
  onRerun,
  onCancel,
}: {
  step: RerunnableStep;
  disabled: boolean;
  onRerun: (input: string, newInstanceId: string) => void;
  onCancel: () => void;
}) {
  const [input, setInput] = useState(() => prettyJson(step.input));
  const [newId, setNewId] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    try {
      JSON.parse(input);
    } catch (err) {
      return setProblem(`the input is not valid JSON: ${(err as Error).message}`);
    }
    setProblem(undefined);
    onRerun(input.trim(), newId.trim());
  };
  return (
    <form className="raise" onSubmit={submit} aria-label="Rerun from a step">
      <p className="small muted" style={{ flexBasis: '100%', margin: 0 }}>
        A new instance replays this one's history up to {step.kind === 'activity' ? 'activity' : 'child workflow'} <strong>{step.name}</strong> (step{' '}
        {step.id}) and runs it again with the input below; the steps after it run anew.
      </p>
      <label className="field grow">
        <span>Input of {step.name} (JSON)</span>
        <textarea value={input} onChange={(e) => setInput(e.target.value)} rows={Math.min(12, Math.max(3, input.split('\n').length))} spellCheck={false} autoFocus />
      </label>
      <label className="field">
        <span>New instance id (optional)</span>
        <input value={newId} onChange={(e) => setNewId(e.target.value)} placeholder="random" />
      </label>
      <button type="submit" disabled={disabled}>
        Rerun
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      {problem ? (
        <p className="notice bad" role="alert">
          {problem}
        </p>
      ) : null}
    </form>
  );
}

function RaiseEventForm({ onRaise, disabled }: { onRaise: (name: string, payload: string) => void; disabled: boolean }) {
  const [name, setName] = useState('');
  const [payload, setPayload] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim() === '') return setProblem('an event name is required');
    if (payload.trim() !== '') {
      try {
        JSON.parse(payload);
      } catch (err) {
        return setProblem(`the payload is not valid JSON: ${(err as Error).message}`);
      }
    }
    setProblem(undefined);
    onRaise(name.trim(), payload.trim());
  };
  return (
    <form className="raise" onSubmit={submit} aria-label="Raise an event">
      <label className="field">
        <span>Event name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="approval" />
      </label>
      <label className="field grow">
        <span>JSON payload</span>
        <textarea value={payload} onChange={(e) => setPayload(e.target.value)} rows={3} placeholder='{"approved": true}' />
      </label>
      <button type="submit" disabled={disabled}>
        Raise event
      </button>
      {problem ? (
        <p className="notice bad" role="alert">
          {problem}
        </p>
      ) : null}
    </form>
  );
}

export function InstancePage({ sidecar, instanceId }: { sidecar: string; instanceId: string }) {
  const query = useInstance(sidecar, instanceId);
  const action = useInstanceAction(sidecar);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'bad'; text: string } | undefined>();
  const [rerunStep, setRerunStep] = useState<RerunnableStep | undefined>();
  const back = <Link to={href('/workflows', { app: sidecar })}>← all instances</Link>;
  if (query.isPending) return <Loading what="the instance" />;
  if (query.error) return <ErrorBox error={query.error} what="the instance" />;
  const { instance, history } = query.data;
  if (!instance) {
    return (
      <Empty>
        {back}
        <p>
          No instance <code>{instanceId}</code> on <code>{sidecar}</code>: it never existed or was purged.
        </p>
      </Empty>
    );
  }
  const details = instanceDetails(instance);
  const timeline = buildTimeline(history);
  const parent = parentOf(history);
  const completed = history.find((e) => e.type === 'ExecutionCompleted');
  const failureDetails = completed?.['failureDetails'] as StepFailure | undefined;
  const status = instance.runtimeStatus;
  const finished = ['COMPLETED', 'FAILED', 'TERMINATED'].includes(status);
  // As in Dapr: only a finished top-level instance can be rerun from a step.
  const canRerun = finished && !parent;
  const run = (a: InstanceAction, done: string) => {
    if ((a.kind === 'terminate' || a.kind === 'purge') && !window.confirm(`${a.kind === 'terminate' ? 'Terminate' : 'Purge'} ${instanceId}?`)) return;
    action.mutate(
      { instanceId, action: a },
      {
        onSuccess: (newId) => {
          setNotice({ kind: 'ok', text: done });
          if ((a.kind === 'rerun' || a.kind === 'rerun-from') && newId) {
            setRerunStep(undefined);
            navigate(instanceHref(sidecar, newId));
          }
        },
        onError: (err) => setNotice({ kind: 'bad', text: err.message }),
      },
    );
  };
  return (
    <>
      <div className="crumbs">{back}</div>
      <Section
        title={instance.workflowName}
        actions={
          <>
            <button disabled={finished || action.isPending} onClick={() => run({ kind: 'terminate' }, 'Terminate requested.')}>
              Terminate
            </button>
            <button disabled={status !== 'RUNNING' || action.isPending} onClick={() => run({ kind: 'suspend' }, 'Suspend requested.')}>
              Suspend
            </button>
            <button disabled={status !== 'SUSPENDED' || action.isPending} onClick={() => run({ kind: 'resume' }, 'Resume requested.')}>
              Resume
            </button>
            <button disabled={!finished || action.isPending} onClick={() => run({ kind: 'purge' }, 'Purged.')}>
              Purge
            </button>
            <button disabled={action.isPending} onClick={() => run({ kind: 'rerun', name: instance.workflowName, input: details.input }, 'Started again.')}>
              Run again
            </button>
          </>
        }
      >
        <dl className="facts">
          <dt>Instance id</dt>
          <dd className="mono" data-testid="instance-id">
            {instance.instanceID}
          </dd>
          <dt>Status</dt>
          <dd data-testid="instance-status">
            <Badge value={status} />
            {instance.stuck ? <Badge value="stuck" /> : null}
          </dd>
          <dt>Created</dt>
          <dd>
            <Time iso={instance.createdAt} />
          </dd>
          <dt>Last updated</dt>
          <dd>
            <Time iso={instance.lastUpdatedAt} />
          </dd>
          {parent ? (
            <>
              <dt>Parent</dt>
              <dd>
                <Link to={instanceHref(sidecar, parent.instanceId)}>{parent.instanceId}</Link> {parent.name ? `(${parent.name})` : ''}
              </dd>
            </>
          ) : null}
        </dl>
        {notice ? (
          <p className={`notice ${notice.kind}`} role="status">
            {notice.text}
          </p>
        ) : null}
        <div className="grid3">
          <div>
            <h3>Input</h3>
            <Json text={details.input} label="workflow input" />
          </div>
          <div>
            <h3>Output</h3>
            <Json text={details.output} label="workflow output" />
          </div>
          <div>
            <h3>Custom status</h3>
            <Json text={details.customStatus} label="custom status" />
          </div>
        </div>
        {details.failureType || failureDetails ? (
          <>
            <h3>Failure</h3>
            <Failure
              failure={{
                ...(failureDetails ?? {}),
                ...(details.failureType ? { errorType: details.failureType } : {}),
                ...(details.failureMessage ? { errorMessage: details.failureMessage } : {}),
              }}
            />
          </>
        ) : null}
        {!finished ? <RaiseEventForm disabled={action.isPending} onRaise={(name, payload) => run({ kind: 'raise', eventName: name, payload }, `Event ${name} raised.`)} /> : null}
      </Section>
      <Section title={`Timeline (${timeline.length} steps)`}>
        {rerunStep ? (
          <RerunForm
            key={rerunStep.id}
            step={rerunStep}
            disabled={action.isPending}
            onCancel={() => setRerunStep(undefined)}
            onRerun={(input, newInstanceId) =>
              run({ kind: 'rerun-from', eventId: rerunStep.id, input, ...(newInstanceId ? { newInstanceId } : {}) }, `Rerunning from ${rerunStep.name}.`)
            }
          />
        ) : null}
        {timeline.length === 0 ? (
          <Empty>No history yet: the instance has not run (is a worker connected?).</Empty>
        ) : (
          <table className="timeline">
            <thead>
              <tr>
                <th>Kind</th>
                <th>Step</th>
                <th>Started</th>
                <th>Duration</th>
                <th>Attempts</th>
                <th>Input</th>
                <th>Output</th>
              </tr>
            </thead>
            <tbody>
              {timeline.map((step, i) => (
                <StepRow key={i} step={step} sidecar={sidecar} onRerun={canRerun ? setRerunStep : undefined} />
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title={`Raw history (${history.length} events)`}>
        <details>
          <summary>Show the history events</summary>
          <Json text={JSON.stringify(history)} label="raw history" />
        </details>
      </Section>
    </>
  );
}
