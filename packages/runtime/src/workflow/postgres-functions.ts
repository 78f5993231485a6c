/**
 * The PostgreSQL workflow backend's write paths as server-side functions, so a step, an instance
 * start or an activity result costs one round trip however many rows it touches, and the writes that
 * arrive together go in one statement (one durable commit): see `PostgresWorkflowBackend`. Created by
 * the backend's migration with `CREATE OR REPLACE`; the names carry a version, so replicas of another
 * version sharing the database keep the functions they were written for.
 *
 * Each function switches `synchronous_commit` on for its transaction (the sessions default to
 * asynchronous commit, which only lease claims and renewals rely on).
 */
import { statusAfterStepSql } from './transitions.js';

/** Inserts a new instance (replacing the rows of a finished one of the same id) with its start event. */
const INSERT_INSTANCE = `
CREATE OR REPLACE FUNCTION weft_wf_insert_instance_v1(app text, i jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  id text := i->>'instanceId';
BEGIN
  DELETE FROM weft_wf_instances WHERE app_id = app AND instance_id = id;
  DELETE FROM weft_wf_history WHERE app_id = app AND instance_id = id;
  DELETE FROM weft_wf_inbox WHERE app_id = app AND instance_id = id;
  DELETE FROM weft_wf_activities WHERE app_id = app AND instance_id = id;
  INSERT INTO weft_wf_instances (app_id, instance_id, name, status, execution_id, input, created_at, updated_at,
    scheduled_start_at, parent_instance_id, parent_task_id)
  VALUES (app, id, i->>'name', 'PENDING', i->>'executionId', i->>'input', (i->>'createdAt')::bigint, (i->>'createdAt')::bigint,
    (i->>'scheduledStartAt')::bigint, i->>'parentInstanceId', (i->>'parentTaskId')::int);
  INSERT INTO weft_wf_inbox (app_id, instance_id, event, visible_at, timer)
  VALUES (app, id, i->>'startEvent', (i->>'createdAt')::bigint, false);
END $fn$`;

/** createInstance: false when an unfinished instance of that id exists (or is being created concurrently). */
const CREATE_INSTANCE = `
CREATE OR REPLACE FUNCTION weft_wf_create_instance_v1(app text, i jsonb) RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
  existing text;
BEGIN
  PERFORM set_config('synchronous_commit', 'on', true);
  SELECT status INTO existing FROM weft_wf_instances WHERE app_id = app AND instance_id = i->>'instanceId' FOR UPDATE;
  IF FOUND AND existing NOT IN ('COMPLETED', 'FAILED', 'TERMINATED') THEN
    RETURN false;
  END IF;
  PERFORM weft_wf_insert_instance_v1(app, i);
  RETURN true;
EXCEPTION WHEN unique_violation THEN
  RETURN false;
END $fn$`;

/**
 * commitStep: the rules of \`SqliteWorkflowBackend.commitStep\` (the reference is the in-memory
 * backend); \`s\` is the step as the backend encodes it (history, messages and failure as JSON text).
 *
 * v2: the instance row is updated first, its lock checked in the same statement (one visit of the row
 * instead of a locking read and an update), and a statement whose input list is empty is not run at
 * all (each costs an executor start that opens the table and all its indexes).
 */
const COMMIT_STEP = `
CREATE OR REPLACE FUNCTION weft_wf_commit_step_v2(app text, s jsonb) RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
  id text := s->>'instanceId';
  holder text := s->>'owner';
  t bigint := (s->>'now')::bigint;
  exec_id text := COALESCE(s->>'newExecutionId', s->>'executionId');
  next_status text := s->>'status';
  lock_max int := COALESCE((s->'lockActivities'->>'max')::int, 0);
  lock_until bigint := t + (s->'lockActivities'->>'leaseMs')::bigint;
  child jsonb;
BEGIN
  PERFORM set_config('synchronous_commit', 'on', true);
  -- Applies only while the holder has the lock on this unfinished execution; the row stays locked
  -- (by this update) until the commit, so the writes below cannot race another holder.
  UPDATE weft_wf_instances SET
    status = ${statusAfterStepSql('status', 'next_status')},
    execution_id = exec_id, input = CASE WHEN s ? 'input' THEN s->>'input' ELSE input END, output = s->>'output',
    custom_status = s->>'customStatus', failure = s->>'failure', updated_at = t, lock_owner = NULL, lock_expires_at = NULL
  WHERE app_id = app AND instance_id = id AND lock_owner = holder AND execution_id = s->>'executionId'
    AND status NOT IN ('COMPLETED', 'FAILED', 'TERMINATED');
  IF NOT FOUND THEN
    UPDATE weft_wf_instances SET lock_owner = NULL, lock_expires_at = NULL WHERE app_id = app AND instance_id = id AND lock_owner = holder;
    RETURN false;
  END IF;
  IF jsonb_array_length(s->'consumedSeqs') > 0 THEN
    -- An array, not IN (subquery): the generic plan then looks the keys up instead of walking the index.
    DELETE FROM weft_wf_inbox WHERE seq = ANY (ARRAY(SELECT jsonb_array_elements_text(s->'consumedSeqs'))::bigint[]);
  END IF;
  IF (s->>'resetHistory')::boolean THEN
    DELETE FROM weft_wf_history WHERE app_id = app AND instance_id = id;
    DELETE FROM weft_wf_activities WHERE app_id = app AND instance_id = id;
    -- Timers of the old execution go; events raised meanwhile stay for the new one.
    DELETE FROM weft_wf_inbox WHERE app_id = app AND instance_id = id AND timer;
  END IF;
  IF next_status IN ('COMPLETED', 'FAILED', 'TERMINATED') THEN
    DELETE FROM weft_wf_activities WHERE app_id = app AND instance_id = id;
    DELETE FROM weft_wf_inbox WHERE app_id = app AND instance_id = id;
  END IF;
  IF jsonb_array_length(s->'appendHistory') > 0 THEN
    INSERT INTO weft_wf_history (app_id, instance_id, seq, event)
    SELECT app, id, COALESCE((SELECT MAX(seq) FROM weft_wf_history WHERE app_id = app AND instance_id = id), 0) + e.ord, e.event
    FROM jsonb_array_elements_text(s->'appendHistory') WITH ORDINALITY AS e(event, ord);
  END IF;
  IF jsonb_array_length(s->'activities') > 0 THEN
    -- The first lockActivities.max are leased to the committing sidecar at once (push dispatch).
    INSERT INTO weft_wf_activities (app_id, instance_id, task_id, execution_id, name, input, created_at, lock_owner, lock_expires_at, attempt)
    SELECT app, id, (a.v->>'taskId')::int, exec_id, a.v->>'name', a.v->>'input', t,
      CASE WHEN a.ord <= lock_max THEN holder END, CASE WHEN a.ord <= lock_max THEN lock_until END, CASE WHEN a.ord <= lock_max THEN 1 ELSE 0 END
    FROM jsonb_array_elements(s->'activities') WITH ORDINALITY AS a(v, ord)
    ON CONFLICT DO NOTHING;
  END IF;
  IF jsonb_array_length(s->'newInstances') > 0 THEN
    FOR child IN SELECT jsonb_array_elements(s->'newInstances') LOOP
      PERFORM weft_wf_insert_instance_v1(app, child);
    END LOOP;
  END IF;
  IF jsonb_array_length(s->'messages') > 0 THEN
    -- Own events always; another instance's only while it exists and is unfinished.
    INSERT INTO weft_wf_inbox (app_id, instance_id, event, visible_at, timer)
    SELECT app, m.v->>'instanceId', m.v->>'event', (m.v->>'visibleAt')::bigint, (m.v->>'timer')::boolean
    FROM jsonb_array_elements(s->'messages') WITH ORDINALITY AS m(v, ord)
    WHERE m.v->>'instanceId' = id OR EXISTS (SELECT 1 FROM weft_wf_instances i WHERE i.app_id = app AND i.instance_id = m.v->>'instanceId'
      AND i.status NOT IN ('COMPLETED', 'FAILED', 'TERMINATED'))
    ORDER BY m.ord;
  END IF;
  RETURN true;
END $fn$`;

/**
 * completeActivityAndLock: the activity result enters the inbox and, when the instance is free (the
 * claim's conditions), the instance is leased to \`c.owner\` and its work item returned: \`instance\`
 * (the row), \`messages\` ([seq, event] of every visible inbox event), \`history\` (the events after
 * \`historyFrom\` when the caller's known prefix \`knownExecutionId\`/\`knownLength\` still holds, else
 * all). NULL: the task was completed already. An empty object: stored, not locked.
 */
const COMPLETE_ACTIVITY_LOCK = `
CREATE OR REPLACE FUNCTION weft_wf_complete_activity_lock_v1(app text, c jsonb) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
  id text := c->>'instanceId';
  t bigint := (c->>'now')::bigint;
  have int := COALESCE((c->>'knownLength')::int, 0);
  claimed weft_wf_instances%ROWTYPE;
  total int;
  from_seq int := 0;
  messages jsonb;
  history jsonb;
BEGIN
  PERFORM set_config('synchronous_commit', 'on', true);
  -- The instance row before the task's, in the order a step takes them (instance, then its
  -- activities): a result and a step of one instance never wait on each other crosswise.
  PERFORM 1 FROM weft_wf_instances WHERE app_id = app AND instance_id = id FOR NO KEY UPDATE;
  DELETE FROM weft_wf_activities WHERE app_id = app AND instance_id = id AND task_id = (c->>'taskId')::int;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  INSERT INTO weft_wf_inbox (app_id, instance_id, event, visible_at, timer) VALUES (app, id, c->>'event', t, false);
  UPDATE weft_wf_instances SET lock_owner = c->>'owner', lock_expires_at = t + (c->>'leaseMs')::bigint
  WHERE app_id = app AND instance_id = id AND status NOT IN ('COMPLETED', 'FAILED', 'TERMINATED', 'SUSPENDED')
    AND (lock_expires_at IS NULL OR lock_expires_at < t) AND (scheduled_start_at IS NULL OR scheduled_start_at <= t)
  RETURNING * INTO claimed;
  IF NOT FOUND THEN
    RETURN '{}'::jsonb;
  END IF;
  SELECT jsonb_agg(jsonb_build_array(seq, event) ORDER BY seq) INTO messages
  FROM weft_wf_inbox WHERE app_id = app AND instance_id = id AND visible_at <= t;
  -- seq is the position (from 1): the largest is the length. Nobody else writes a leased history.
  SELECT COALESCE(MAX(seq), 0) INTO total FROM weft_wf_history WHERE app_id = app AND instance_id = id;
  IF have > 0 AND have <= total AND claimed.execution_id = c->>'knownExecutionId' THEN
    from_seq := have;
  END IF;
  SELECT COALESCE(jsonb_agg(event ORDER BY seq), '[]'::jsonb) INTO history
  FROM weft_wf_history WHERE app_id = app AND instance_id = id AND seq > from_seq;
  RETURN jsonb_build_object('instance', to_jsonb(claimed), 'messages', messages, 'history', history,
    'historyFrom', CASE WHEN from_seq > 0 THEN from_seq END);
END $fn$`;

/** The functions, in the order they must be created. */
export const WORKFLOW_FUNCTIONS = [INSERT_INSTANCE, CREATE_INSTANCE, COMMIT_STEP, COMPLETE_ACTIVITY_LOCK];
