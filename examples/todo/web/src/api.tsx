/** The backend API as the page uses it (same origin; the user id travels in `x-user-id`). */

export interface Task {
  id: string;
  title: string;
  status: 'pending' | 'in_progress' | 'completed';
  priority: 'low' | 'medium' | 'high';
  tags: string[];
  due_at: string | null;
  recurrence: { frequency: string; interval: number } | null;
}

export interface SentNotification {
  id: string;
  task_id: string;
  event_type: string;
  subject: string;
  sent_at: string;
}

export class ApiError extends Error {}

async function call<T>(user: string, method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { 'x-user-id': user, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 204) return undefined as T;
  const data = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new ApiError(res.status === 429 ? 'Too many requests: wait a minute.' : (data.error ?? `HTTP ${res.status}`));
  return data;
}

export const api = {
  list: (user: string) => call<{ tasks: Task[] }>(user, 'GET', '/api/tasks').then((r) => r.tasks),
  create: (user: string, task: { title: string; priority: string; due_at?: string; recurrence?: { frequency: string; interval: number } }) =>
    call<Task>(user, 'POST', '/api/tasks', task),
  complete: (user: string, id: string) => call<Task>(user, 'POST', `/api/tasks/${id}/complete`),
  remove: (user: string, id: string) => call<void>(user, 'DELETE', `/api/tasks/${id}`),
  notifications: (user: string) => call<{ notifications: SentNotification[] }>(user, 'GET', '/api/notifications').then((r) => r.notifications),
};
