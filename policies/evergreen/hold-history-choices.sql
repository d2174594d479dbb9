-- Patron-chosen hold history, read from Evergreen's user settings for the hold policies' consent.
--
-- One row per patron who opted in to keeping their hold history (history.hold.retention_start set),
-- with the limits they chose: since (the opt-in date), keep_for (history.hold.retention_age) and
-- keep_count (history.hold.retention_count; Evergreen's purge_holds() assumes 1000 when unset).
-- The values are JSON text in actor.usr_setting; they are read with PostgreSQL's jsonb, so the
-- view needs no PL/Perl. A value that is not valid JSON, or not a timestamp, interval or number,
-- makes the view (and the run) fail rather than purge what the patron chose to keep.
--
-- Run as a role that may create the schema; grant the purging role SELECT on the view (and the
-- view's owner SELECT on actor.usr_setting). Safe to run again.
CREATE SCHEMA IF NOT EXISTS retention_evergreen;

CREATE OR REPLACE VIEW retention_evergreen.hold_history_choices AS
SELECT s.usr,
       true AS opted_in,
       (s.value::jsonb #>> '{}')::timestamptz AS since,
       (SELECT (a.value::jsonb #>> '{}')::interval FROM actor.usr_setting a
        WHERE a.usr = s.usr AND a.name = 'history.hold.retention_age') AS keep_for,
       coalesce((SELECT (c.value::jsonb #>> '{}')::int FROM actor.usr_setting c
                 WHERE c.usr = s.usr AND c.name = 'history.hold.retention_count'), 1000) AS keep_count
FROM actor.usr_setting s
WHERE s.name = 'history.hold.retention_start' AND s.value IS NOT NULL AND s.value <> 'null';
