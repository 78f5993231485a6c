/** Metrics of one app, sampled by the dashboard from the sidecar's Prometheus endpoint. */
import { useQuery } from '@tanstack/react-query';
import type { MetricsResponse } from '../../shared/api.js';
import { getJson } from '../../api/client.js';
import { useSelectedSidecar } from '../../api/sidecars.js';
import { AppPicker } from '../../ui/app-picker.js';
import { Empty, ErrorBox, Loading, Section } from '../../ui/ui.js';
import { Chart } from './Chart.js';

/** A sidecar's metric points; refreshed on every live tick. */
export function useMetrics(sidecarId: string) {
  return useQuery({
    queryKey: ['sidecar', sidecarId, 'metrics'],
    queryFn: () => getJson<MetricsResponse>(`/api/sidecars/${encodeURIComponent(sidecarId)}/metrics`),
    enabled: sidecarId !== '',
    meta: { live: true },
    placeholderData: (previous) => previous,
  });
}

export function MetricsPage() {
  const { sidecar, sidecars, loading, error, select } = useSelectedSidecar();
  const metrics = useMetrics(sidecar?.id ?? '');
  if (loading) return <Loading what="apps" />;
  if (error) return <ErrorBox error={error} what="apps" />;
  if (!sidecar) return <Empty>No sidecars found.</Empty>;
  const data = metrics.data;
  const points = data?.points ?? [];
  const t = points.map((p) => p.t);
  return (
    <>
      <div className="toolbar">
        <AppPicker sidecars={sidecars} selected={sidecar} onSelect={select} />
      </div>
      <Section title={`Metrics of ${sidecar.appId}`}>
        {metrics.isPending ? <Loading what="metrics" /> : null}
        {metrics.error ? <ErrorBox error={metrics.error} what="metrics" /> : null}
        {data && !data.available ? <Empty>No metrics: {data.reason}</Empty> : null}
        {data?.available && data.reason ? <p className="notice bad">{data.reason}</p> : null}
        {data?.available && points.length === 0 ? <Empty>Collecting: the first points appear a few seconds after the dashboard starts.</Empty> : null}
        {points.length > 0 ? (
          <div className="charts">
            <Chart
              title="API requests and errors"
              unit="/s"
              t={t}
              series={[
                { label: 'requests', values: points.map((p) => p.requestRate), color: '#2f6fdb' },
                { label: 'errors', values: points.map((p) => p.errorRate), color: '#d23f31' },
              ]}
            />
            <Chart title="HTTP API latency p99" unit="ms" t={t} series={[{ label: 'p99', values: points.map((p) => p.p99Ms), color: '#8a5cd6' }]} />
            <Chart
              title="Workflow throughput"
              unit="/s"
              t={t}
              series={[
                { label: 'workflows', values: points.map((p) => p.workflowRate), color: '#1a9c56' },
                { label: 'activities', values: points.map((p) => p.activityRate), color: '#d08a00' },
              ]}
            />
            <Chart title="Pub/sub deliveries" unit="/s" t={t} series={[{ label: 'deliveries', values: points.map((p) => p.deliveryRate), color: '#0f8f9c' }]} />
          </div>
        ) : null}
      </Section>
    </>
  );
}
