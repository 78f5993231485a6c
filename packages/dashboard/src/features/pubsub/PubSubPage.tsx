/** Pub/sub of one app: its subscriptions, a live tail of deliveries with outcomes, dead letters with replay. */
import { useState } from 'react';
import { useMetadata, useSelectedSidecar } from '../../api/sidecars.js';
import { subscriptionRules } from '../../shared/api.js';
import { useParams } from '../../router.js';
import { AppPicker } from '../../ui/app-picker.js';
import { Badge, Empty, ErrorBox, Loading, Section, Time } from '../../ui/ui.js';
import { useDeadLetters, useReplay, useTraffic } from './data.js';

export function PubSubPage() {
  const { sidecar, sidecars, loading, error, select } = useSelectedSidecar();
  const [params, setParams] = useParams();
  const topic = params.get('topic') ?? '';
  const id = sidecar?.id ?? '';
  const metadata = useMetadata(sidecar?.id);
  const traffic = useTraffic(id, topic);
  const deadLetters = useDeadLetters(id);
  const replay = useReplay(id);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'bad'; text: string } | undefined>();
  if (loading) return <Loading what="apps" />;
  if (error) return <ErrorBox error={error} what="apps" />;
  if (!sidecar) return <Empty>No sidecars found.</Empty>;
  const subscriptions = metadata.data?.subscriptions ?? [];
  const topics = [...new Set(subscriptions.map((s) => s.topic))];
  return (
    <>
      <div className="toolbar">
        <AppPicker sidecars={sidecars} selected={sidecar} onSelect={select} />
        <label className="field">
          <span>Topic</span>
          <select value={topic} onChange={(e) => setParams({ topic: e.target.value })} aria-label="Topic filter">
            <option value="">all topics</option>
            {topics.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Section title="Subscriptions">
        {metadata.isPending ? <Loading what="subscriptions" /> : null}
        {metadata.error ? <ErrorBox error={metadata.error} what="subscriptions" /> : null}
        {metadata.data && subscriptions.length === 0 ? <Empty>This app subscribes to no topic.</Empty> : null}
        {subscriptions.length > 0 ? (
          <table>
            <thead>
              <tr>
                <th>Pub/sub</th>
                <th>Topic</th>
                <th>Routes</th>
                <th>Dead-letter topic</th>
              </tr>
            </thead>
            <tbody>
              {subscriptions.map((s) => (
                <tr key={`${s.pubsubname}/${s.topic}`}>
                  <td>{s.pubsubname}</td>
                  <td className="mono">
                    <button className="link" onClick={() => setParams({ topic: s.topic })}>
                      {s.topic}
                    </button>
                  </td>
                  <td className="mono">{subscriptionRules(s).map((r) => r.path).join(', ')}</td>
                  <td className="mono">{s.deadLetterTopic || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
      <Section title={`Live tail${topic ? ` of ${topic}` : ''}`}>
        {traffic.isPending ? <Loading what="traffic" /> : null}
        {traffic.error ? <ErrorBox error={traffic.error} what="traffic" /> : null}
        {traffic.data && traffic.data.length === 0 ? <Empty>No deliveries yet. Events delivered to this app appear here as they arrive.</Empty> : null}
        {traffic.data && traffic.data.length > 0 ? (
          <table className="tail" aria-live="polite">
            <thead>
              <tr>
                <th>Time</th>
                <th>Topic</th>
                <th>Outcome</th>
                <th>Route</th>
                <th>Event id</th>
                <th>Payload</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {traffic.data.map((e) => (
                <tr key={e.seq} data-outcome={e.outcome}>
                  <td>
                    <Time iso={e.time} precise />
                  </td>
                  <td className="mono">{e.topic}</td>
                  <td>
                    <Badge value={e.outcome} />
                  </td>
                  <td className="mono">{e.route ?? '—'}</td>
                  <td className="mono small">{e.eventId ?? '—'}</td>
                  <td className="mono payload">{e.payload}</td>
                  <td>{e.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
      <Section title="Dead letters">
        {notice ? (
          <p className={`notice ${notice.kind}`} role="status">
            {notice.text}
          </p>
        ) : null}
        {deadLetters.isPending ? <Loading what="dead letters" /> : null}
        {deadLetters.error ? <ErrorBox error={deadLetters.error} what="dead letters" /> : null}
        {deadLetters.data && deadLetters.data.length === 0 ? <Empty>No event was dead-lettered by this app's sidecar.</Empty> : null}
        {deadLetters.data && deadLetters.data.length > 0 ? (
          <table className="deadletters">
            <thead>
              <tr>
                <th>Time</th>
                <th>From topic</th>
                <th>Dead-letter topic</th>
                <th>Payload</th>
                <th>Reason</th>
                <th>Replays</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {deadLetters.data.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Time iso={d.time} />
                  </td>
                  <td className="mono">{d.topic}</td>
                  <td className="mono">{d.deadLetterTopic}</td>
                  <td className="mono payload">{d.payload}</td>
                  <td>{d.reason}</td>
                  <td>{d.replays}</td>
                  <td>
                    <button
                      disabled={replay.isPending}
                      onClick={() =>
                        replay.mutate(d.id, {
                          onSuccess: (r) => setNotice({ kind: 'ok', text: `Replayed to ${r.topic} (replay ${r.replays}).` }),
                          onError: (err) => setNotice({ kind: 'bad', text: err.message }),
                        })
                      }
                    >
                      Replay
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
    </>
  );
}
