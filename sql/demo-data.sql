-- Synthetic demo data for sql/reference-schema.sql. Every name, address and
-- number is made up ('Given123', '123 Main Street', ...). Load into a fresh
-- database that has the reference schema and nothing else:
--
--   psql -v ON_ERROR_STOP=1 -v loans=100000 -f sql/demo-data.sql
--
-- Scale (loans, default 20000): patrons loans/20 (at least 50), events
-- loans/200, attendance loans/4, computer sign-ups loans/4. Times are spread
-- uniformly over the three years before now(). Set-based: 1M loans take
-- seconds, not minutes.

\set ON_ERROR_STOP on
\if :{?loans}
\else
  \set loans 20000
\endif

-- Refuse to add demo rows to a database that already holds data.
DO $$
BEGIN
  IF EXISTS (SELECT FROM libraries) THEN
    RAISE EXCEPTION 'demo-data.sql: table libraries is not empty; load demo data into a fresh database only';
  END IF;
END $$;

-- Counts (the casts reject a non-numeric -v loans=...).
SELECT (:'loans')::bigint                          AS n_loans,
       greatest(50, (:'loans')::bigint / 20)       AS n_patrons,
       greatest(1, (:'loans')::bigint / 200)       AS n_events,
       (:'loans')::bigint / 4                      AS n_attendance,
       (:'loans')::bigint / 4                      AS n_signups
\gset

BEGIN;
SELECT setseed(0.121) \g /dev/null
-- (same rows on every load; the times move with now())

INSERT INTO libraries (code, name) VALUES
  ('BANGOR',   'Bangor Public Library'),
  ('PORTLAND', 'Portland Public Library'),
  ('AUGUSTA',  'Lithgow Public Library, Augusta'),
  ('LEWISTON', 'Lewiston Public Library'),
  ('ORONO',    'Orono Public Library');

-- Random picks below: (ARRAY[...])[1 + floor(random() * n)::int].
INSERT INTO patrons (library_code, first_name, last_name, address, phone, email,
                     birth_date, drivers_license, keep_history, created_at)
SELECT (ARRAY['BANGOR','PORTLAND','AUGUSTA','LEWISTON','ORONO'])[1 + g % 5],
       'Given' || g,
       'Family' || g,
       g || ' Main Street, ' ||
         (ARRAY['Bangor','Portland','Augusta','Lewiston','Orono'])[1 + g % 5] || ', ME',
       '207-555-' || lpad((g % 10000)::text, 4, '0'),
       'patron' || g || '@example.org',
       date '1940-01-01' + floor(random() * 365 * 70)::int,
       'D' || lpad(g::text, 7, '0'),
       random() < 0.10,
       now() - interval '5 years' * random()
FROM generate_series(1, :n_patrons) AS g;

INSERT INTO events (library_code, title, starts_at)
SELECT (ARRAY['BANGOR','PORTLAND','AUGUSTA','LEWISTON','ORONO'])[1 + floor(random() * 5)::int],
       (ARRAY['Story time','Book club','Tech help','Author talk','Craft workshop',
              'Film night','Genealogy clinic','Tax help'])[1 + floor(random() * 8)::int] || ' #' || g,
       now() - interval '3 years' * random()
FROM generate_series(1, :n_events) AS g;

-- Identity values of one INSERT in a fresh database are consecutive, so a
-- random row is min(id) + offset (no lookup table needed).
SELECT min(id) AS p0 FROM patrons \gset
SELECT min(id) AS e0 FROM events \gset

-- Attendance: at the event's library and time; about 15% walk-ins by name.
-- (OFFSET 0 keeps the planner from inlining the subquery, so each random()
-- is drawn once per row.)
INSERT INTO event_attendance (event_id, patron_id, attendee_name, library_code, attended_at)
SELECT e.id,
       CASE WHEN r.walk_in THEN NULL ELSE r.patron_id END,
       CASE WHEN r.walk_in THEN 'Walk-in Given' || r.g || ' Family' || r.g END,
       e.library_code,
       e.starts_at
FROM (SELECT g,
             :e0 + floor(random() * :n_events)::bigint  AS event_id,
             :p0 + floor(random() * :n_patrons)::bigint AS patron_id,
             random() < 0.15                             AS walk_in
      FROM generate_series(1, :n_attendance) AS g
      OFFSET 0) AS r
JOIN events AS e ON e.id = r.event_id;

-- Computer sign-ups: about 30% guests by name; sessions of 15 minutes to 2
-- hours; a session that has not ended yet has ended_at NULL.
INSERT INTO computer_signups (library_code, computer, patron_id, guest_name, started_at, ended_at)
SELECT r.library_code,
       r.library_code || '-PC' || lpad(r.pc::text, 2, '0'),
       CASE WHEN r.guest THEN NULL ELSE r.patron_id END,
       CASE WHEN r.guest THEN 'Guest Given' || r.g || ' Family' || r.g END,
       r.started_at,
       CASE WHEN r.started_at + r.duration <= now() THEN r.started_at + r.duration END
FROM (SELECT g,
             (ARRAY['BANGOR','PORTLAND','AUGUSTA','LEWISTON','ORONO'])[1 + floor(random() * 5)::int] AS library_code,
             1 + floor(random() * 12)::int                 AS pc,
             :p0 + floor(random() * :n_patrons)::bigint    AS patron_id,
             random() < 0.30                               AS guest,
             now() - interval '3 years' * random()         AS started_at,
             interval '15 minutes' + interval '105 minutes' * random() AS duration
      FROM generate_series(1, :n_signups) AS g
      OFFSET 0) AS r;

-- Loans: returned_at uniform over three years. About 3% still out (no
-- returned_at), 2% lost and 1% claims-returned (loan closed when declared,
-- so returned_at is set and the policy's keep_when matters), 5% with fines,
-- 20% with a staff note.
INSERT INTO loans (library_code, patron_id, item_barcode, checked_out_at, due_at,
                   returned_at, fines_owed, status, notes)
SELECT r.library_code,
       r.patron_id,
       r.barcode,
       r.checked_out_at,
       r.checked_out_at + interval '21 days',
       CASE WHEN r.status <> 'out' THEN r.closed_at END,
       CASE WHEN r.fined THEN round((0.25 + random() * 40)::numeric, 2) ELSE 0 END,
       r.status,
       CASE WHEN r.noted THEN (ARRAY[
         'Patron called about renewal',
         'Item returned with water damage',
         'Patron disputes overdue notice',
         'Left in book drop after hours',
         'Patron asked to hold next volume'])[1 + floor(random() * 5)::int] END
FROM (SELECT library_code, patron_id, barcode, status, fined, noted, closed_at,
             CASE WHEN status = 'out' THEN now() - interval '45 days' * u2
                  ELSE closed_at - interval '1 day' - interval '40 days' * u2 END AS checked_out_at
      FROM (SELECT (ARRAY['BANGOR','PORTLAND','AUGUSTA','LEWISTON','ORONO'])[1 + floor(random() * 5)::int] AS library_code,
                   :p0 + floor(random() * :n_patrons)::bigint  AS patron_id,
                   '3' || lpad(floor(random() * 1e13)::bigint::text, 13, '0') AS barcode,
                   CASE WHEN u < 0.03 THEN 'out'
                        WHEN u < 0.05 THEN 'lost'
                        WHEN u < 0.06 THEN 'claims-returned'
                        ELSE 'returned' END                  AS status,
                   random() < 0.05                           AS fined,
                   random() < 0.20                           AS noted,
                   now() - interval '3 years' * random()     AS closed_at,
                   random()                                  AS u2
            FROM (SELECT random() AS u FROM generate_series(1, :n_loans) OFFSET 0) AS s
            OFFSET 0) AS t
      OFFSET 0) AS r;

COMMIT;

-- Fresh statistics and visibility map, so plans and timings on the demo data
-- look like those of a database that has been running for a while.
VACUUM ANALYZE libraries, patrons, events, event_attendance, computer_signups, loans;
