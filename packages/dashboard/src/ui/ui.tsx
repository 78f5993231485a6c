/** Small shared view pieces: loading, error and empty states, JSON blocks, badges, times. */
import type { ReactNode } from 'react';
import { navigate } from '../router.js';
import { ApiError } from '../api/client.js';

/** Shown while a query has no data yet. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** Shown when a query failed: the message and Dapr's error code. */
export function ErrorBox({ error, what }: { error: unknown; what: string }) {
  const code = error instanceof ApiError && error.errorCode ? ` (${error.errorCode})` : '';
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="state error" role="alert">
      <strong>Could not load {what}</strong>
      {code}: {message}
    </div>
  );
}

/** Shown when a list is empty: what is missing and how to get some. */
export function Empty({ children }: { children: ReactNode }) {
  return <div className="state empty">{children}</div>;
}

/** Pretty JSON when the text is JSON, else the text itself. */
export function prettyJson(text: string | undefined): string {
  if (text === undefined) return '';
  try {
    const value = JSON.parse(text) as unknown;
    // Short values stay on one line: a timeline row of `{"sku":"fig","qty":1}` reads better flat.
    const flat = JSON.stringify(value);
    return flat.length <= 60 ? flat : JSON.stringify(value, null, 2);
  } catch {
    return text;
  }
}

/** A block of JSON (or text). */
export function Json({ text, label }: { text: string | undefined; label?: string }) {
  if (text === undefined || text === '') return <span className="muted">—</span>;
  return (
    <pre className="json" aria-label={label}>
      {prettyJson(text)}
    </pre>
  );
}

const STATUS_CLASS: Record<string, string> = {
  RUNNING: 'info',
  PENDING: 'muted',
  SUSPENDED: 'warn',
  COMPLETED: 'ok',
  FAILED: 'bad',
  TERMINATED: 'bad',
  CONTINUED_AS_NEW: 'info',
  success: 'ok',
  retry: 'warn',
  drop: 'bad',
  deadlettered: 'bad',
  healthy: 'ok',
  down: 'bad',
  allow: 'ok',
  deny: 'bad',
  declarative: 'info',
  programmatic: 'info',
};

/** A coloured label (status, outcome, health). */
export function Badge({ value, title }: { value: string; title?: string }) {
  return (
    <span className={`badge ${STATUS_CLASS[value] ?? 'muted'}`} title={title}>
      {value}
    </span>
  );
}

/** A local time with the ISO value on hover; `precise` shows only the time, to the millisecond. */
export function Time({ iso, precise }: { iso: string | undefined; precise?: boolean }) {
  if (!iso) return <span className="muted">—</span>;
  const d = new Date(iso);
  const text = precise
    ? d.toLocaleTimeString(undefined, { hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3 })
    : d.toLocaleString(undefined, { hour12: false });
  return (
    <time dateTime={iso} title={iso}>
      {text}
    </time>
  );
}

/** A duration in ms, s, min or h. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

/** An in-app link: a real `<a href>` (shareable, middle-click opens a tab) that navigates in place. */
export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  return (
    <a
      href={to}
      className={className}
      onClick={(e) => {
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

/** A titled section. */
export function Section({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <section className="panel" aria-label={title}>
      <header className="panel-head">
        <h2>{title}</h2>
        {actions ? <div className="panel-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}
