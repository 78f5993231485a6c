/** The task page: add, complete, delete tasks and see the notifications the platform sent. */
import { useCallback, useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { api } from './api.tsx';
import type { SentNotification, Task } from './api.tsx';

const USER_KEY = 'todo-user';

export function App() {
  const [user, setUser] = useState(() => localStorage.getItem(USER_KEY) ?? 'demo-user');
  const [tasks, setTasks] = useState<Task[]>([]);
  const [notes, setNotes] = useState<SentNotification[]>([]);
  const [title, setTitle] = useState('');
  const [priority, setPriority] = useState('medium');
  const [recurring, setRecurring] = useState('');
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      const [t, n] = await Promise.all([api.list(user), api.notifications(user).catch(() => [] as SentNotification[])]);
      setTasks(t);
      setNotes(n);
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [user]);

  useEffect(() => {
    localStorage.setItem(USER_KEY, user);
    void refresh();
    // Notifications arrive asynchronously (pub/sub → notification-service): poll gently, since
    // every call counts against the user's 60 requests a minute (two calls per poll: 24 a minute).
    const timer = setInterval(() => void refresh(), 5000);
    return () => clearInterval(timer);
  }, [user, refresh]);

  const act = async (work: () => Promise<unknown>) => {
    try {
      await work();
      await refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const add = (e: FormEvent) => {
    e.preventDefault();
    if (!title.trim()) return;
    void act(async () => {
      await api.create(user, { title: title.trim(), priority, ...(recurring ? { recurrence: { frequency: recurring, interval: 1 } } : {}) });
      setTitle('');
    });
  };

  return (
    <main>
      <header>
        <h1>Todo</h1>
        <label>
          User <input aria-label="User" value={user} onChange={(e) => setUser(e.target.value)} />
        </label>
      </header>
      {error && <p role="alert" className="error">{error}</p>}
      <form onSubmit={add} aria-label="Add task">
        <input aria-label="New task" placeholder="What needs doing?" value={title} onChange={(e) => setTitle(e.target.value)} />
        <select aria-label="Priority" value={priority} onChange={(e) => setPriority(e.target.value)}>
          <option value="low">low</option>
          <option value="medium">medium</option>
          <option value="high">high</option>
        </select>
        <select aria-label="Repeat" value={recurring} onChange={(e) => setRecurring(e.target.value)}>
          <option value="">once</option>
          <option value="daily">daily</option>
          <option value="weekly">weekly</option>
          <option value="monthly">monthly</option>
        </select>
        <button type="submit">Add</button>
      </form>
      <section aria-label="Tasks">
        <h2>Tasks</h2>
        {tasks.length === 0 && <p className="muted">No tasks yet.</p>}
        <ul>
          {tasks.map((t) => (
            <li key={t.id} data-status={t.status} className={t.status === 'completed' ? 'done' : ''}>
              <span className="title">{t.title}</span>
              <span className={`badge ${t.priority}`}>{t.priority}</span>
              {t.recurrence && <span className="badge">↻ {t.recurrence.frequency}</span>}
              {t.status !== 'completed' && (
                <button onClick={() => void act(() => api.complete(user, t.id))} aria-label={`Complete ${t.title}`}>
                  Complete
                </button>
              )}
              <button onClick={() => void act(() => api.remove(user, t.id))} aria-label={`Delete ${t.title}`}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section aria-label="Notifications">
        <h2>Notifications</h2>
        {notes.length === 0 && <p className="muted">Nothing sent yet.</p>}
        <ul>
          {notes.map((n) => (
            <li key={n.id}>
              {n.subject} <time className="muted">{new Date(n.sent_at).toLocaleTimeString()}</time>
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}
