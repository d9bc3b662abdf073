-- The province's dashboard reads a summary of the tasks instead of every
-- task: how many tasks of each campaign share a list, a status and the
-- three dates their lights and overdue count are judged by. Those dates
-- are few per campaign, so the summary is a fraction of the tasks, and the
-- same day's comparisons over it give exactly the same counts. A trigger
-- keeps it in the transaction of every change to a task.
CREATE TABLE task_summary (
    campaign_id   bigint  NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    list          text    NOT NULL,
    rollup_status text    NOT NULL,
    next_due      date,
    yellow_from   date,
    red_from      date,
    tasks         integer NOT NULL CHECK (tasks > 0),
    CONSTRAINT task_summary_key UNIQUE NULLS NOT DISTINCT (campaign_id, list, rollup_status, next_due, yellow_from, red_from)
);
COMMENT ON TABLE task_summary IS 'Tasks counted by campaign, list, status and light dates; kept by the tasks_summarised trigger.';

CREATE FUNCTION tasks_summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.campaign_id = NEW.campaign_id AND OLD.list = NEW.list AND OLD.rollup_status = NEW.rollup_status
       AND OLD.next_due IS NOT DISTINCT FROM NEW.next_due
       AND OLD.yellow_from IS NOT DISTINCT FROM NEW.yellow_from
       AND OLD.red_from IS NOT DISTINCT FROM NEW.red_from THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE task_summary SET tasks = tasks - 1
         WHERE campaign_id = OLD.campaign_id AND list = OLD.list AND rollup_status = OLD.rollup_status
           AND next_due IS NOT DISTINCT FROM OLD.next_due
           AND yellow_from IS NOT DISTINCT FROM OLD.yellow_from
           AND red_from IS NOT DISTINCT FROM OLD.red_from
           AND tasks > 1;
        IF NOT FOUND THEN
            DELETE FROM task_summary
             WHERE campaign_id = OLD.campaign_id AND list = OLD.list AND rollup_status = OLD.rollup_status
               AND next_due IS NOT DISTINCT FROM OLD.next_due
               AND yellow_from IS NOT DISTINCT FROM OLD.yellow_from
               AND red_from IS NOT DISTINCT FROM OLD.red_from;
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO task_summary (campaign_id, list, rollup_status, next_due, yellow_from, red_from, tasks)
        VALUES (NEW.campaign_id, NEW.list, NEW.rollup_status, NEW.next_due, NEW.yellow_from, NEW.red_from, 1)
        ON CONFLICT ON CONSTRAINT task_summary_key DO UPDATE SET tasks = task_summary.tasks + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_summarised AFTER INSERT OR DELETE OR UPDATE OF campaign_id, list, rollup_status, next_due, yellow_from, red_from
    ON tasks FOR EACH ROW EXECUTE FUNCTION tasks_summarise();

INSERT INTO task_summary (campaign_id, list, rollup_status, next_due, yellow_from, red_from, tasks)
SELECT campaign_id, list, rollup_status, next_due, yellow_from, red_from, count(*)
  FROM tasks GROUP BY 1, 2, 3, 4, 5, 6;
