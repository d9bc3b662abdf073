DROP TRIGGER tasks_summarised ON tasks;
DROP FUNCTION tasks_summarise();
DROP TABLE task_summary;
