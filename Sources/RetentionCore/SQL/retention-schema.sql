-- The tool's own schema: runs, the batch ledger and legal holds.
-- `retention setup` applies this file; every statement is idempotent, so running it again
-- on an installed database changes nothing, and a later version only adds to it.
-- It holds no personal data except a hold's patron identifier, which staff enter on purpose.

CREATE SCHEMA IF NOT EXISTS retention;

COMMENT ON SCHEMA retention IS 'retention: runs, batch ledger and legal holds of the retention tool';

CREATE TABLE IF NOT EXISTS retention.schema_version (
    version      int PRIMARY KEY,
    installed_at timestamptz NOT NULL DEFAULT now()
);

-- One row per `retention run`. A run whose status stays 'running' after its session ended died;
-- the next run finds it (no session holds the run lock) and finalizes it from the ledger.
CREATE TABLE IF NOT EXISTS retention.runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    status          text NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'completed', 'stopped', 'interrupted', 'failed', 'recovered')),
    tool_version    text NOT NULL,
    database_user   text NOT NULL DEFAULT current_user,
    backend_pid     int NOT NULL DEFAULT pg_backend_pid(),
    options         jsonb NOT NULL DEFAULT '{}',
    -- SQLSTATE and message of the error that ended a failed run (never row data).
    error           text,
    -- The manifest's sequence number and SHA-256, once written.
    sequence        bigint UNIQUE,
    manifest_sha256 text
);

-- The policies a run applied, with the cutoff of each period, fixed when the run started.
CREATE TABLE IF NOT EXISTS retention.run_policies (
    run_id        bigint NOT NULL REFERENCES retention.runs,
    policy        text NOT NULL,
    version       int NOT NULL,
    policy_sha256 text NOT NULL,
    table_name    text NOT NULL,
    action        text NOT NULL CHECK (action IN ('delete', 'anonymize')),
    -- NULL: the policy's own period; otherwise a library with a period of its own.
    library       text,
    retain        text NOT NULL,
    cutoff        text NOT NULL
);
CREATE INDEX IF NOT EXISTS run_policies_run ON retention.run_policies (run_id);

-- The batch ledger: written by the same statement that purges, so every committed purge has a
-- committed record. One row per batch and library that purged or kept something.
CREATE TABLE IF NOT EXISTS retention.batches (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       bigint NOT NULL REFERENCES retention.runs,
    batch        int NOT NULL,
    policy       text NOT NULL,
    library      text,
    rows         bigint NOT NULL,
    kept_hold    bigint NOT NULL DEFAULT 0,
    kept_consent bigint NOT NULL DEFAULT 0,
    kept_rule    bigint NOT NULL DEFAULT 0,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_run ON retention.batches (run_id, policy);

-- Legal holds. A hold matches a row when every scope field it sets matches; a hold with no
-- scope freezes all purging. Holds are never deleted: release records who and when.
CREATE TABLE IF NOT EXISTS retention.holds (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference   text NOT NULL CHECK (reference <> ''),
    reason      text NOT NULL DEFAULT '',
    placed_by   text NOT NULL DEFAULT current_user,
    placed_at   timestamptz NOT NULL DEFAULT now(),
    patron      text,
    policy      text,
    library     text,
    held_from   timestamptz,
    held_until  timestamptz,
    released_by text,
    released_at timestamptz,
    CHECK (held_from IS NULL OR held_until IS NULL OR held_from < held_until),
    CHECK ((released_by IS NULL) = (released_at IS NULL))
);

INSERT INTO retention.schema_version (version) VALUES (1) ON CONFLICT DO NOTHING;

-- Version 2: the database's identity, recorded with each run for its manifest; hold lookups by
-- patron (one index probe per row however many holds there are); maintenance done after a run.
ALTER TABLE retention.runs ADD COLUMN IF NOT EXISTS database_name text NOT NULL DEFAULT current_database();
ALTER TABLE retention.runs ADD COLUMN IF NOT EXISTS system_identifier text;
CREATE INDEX IF NOT EXISTS holds_active_patron ON retention.holds (patron) WHERE released_at IS NULL;
CREATE INDEX IF NOT EXISTS holds_active_scope ON retention.holds (policy) WHERE released_at IS NULL AND patron IS NULL;
ALTER TABLE retention.run_policies ADD COLUMN IF NOT EXISTS maintenance text;
ALTER TABLE retention.run_policies ADD COLUMN IF NOT EXISTS maintenance_ms bigint;
INSERT INTO retention.schema_version (version) VALUES (2) ON CONFLICT DO NOTHING;

-- Version 3: foreign keys. Rows kept because a row that stays points to them, and rows a declared
-- cascade (ON DELETE CASCADE / SET NULL / SET DEFAULT) changed in other tables, per table name.
ALTER TABLE retention.batches ADD COLUMN IF NOT EXISTS kept_reference bigint NOT NULL DEFAULT 0;
ALTER TABLE retention.batches ADD COLUMN IF NOT EXISTS cascaded jsonb NOT NULL DEFAULT '{}';
INSERT INTO retention.schema_version (version) VALUES (3) ON CONFLICT DO NOTHING;

-- Version 4: what a completed run left due. After its last batch a completed run counts, with the
-- plan's own query and the run's own cutoffs, the rows still due per policy and library (0 in a
-- healthy system) and the age in days of the oldest; the manifest carries both.
CREATE TABLE IF NOT EXISTS retention.run_remaining (
    run_id          bigint NOT NULL REFERENCES retention.runs (id),
    policy          text NOT NULL,
    library         text,
    still_due       bigint NOT NULL,
    oldest_due_days bigint
);
-- One row per policy and library of a run (NULL library: a policy without libraries, or rows
-- whose library is NULL); an index, not UNIQUE NULLS NOT DISTINCT, which PostgreSQL 14 lacks.
CREATE UNIQUE INDEX IF NOT EXISTS run_remaining_key
    ON retention.run_remaining (run_id, policy, (library IS NULL), coalesce(library, ''));
INSERT INTO retention.schema_version (version) VALUES (4) ON CONFLICT DO NOTHING;

-- Version 5: one chain per database. Each run records its database's oid beside its name and the
-- cluster's system identifier, so a manifest names exactly the database it describes. A run of
-- status 'restored' (written by `retention setup --after-restore`) records in `gap` that the
-- database was restored from a backup behind its manifest chain, and continues the chain; the
-- restored runs that never got a manifest point to it (`lost_in_restore`) instead of getting one.
ALTER TABLE retention.runs ADD COLUMN IF NOT EXISTS database_oid text;
ALTER TABLE retention.runs ADD COLUMN IF NOT EXISTS gap jsonb;
ALTER TABLE retention.runs ADD COLUMN IF NOT EXISTS lost_in_restore bigint REFERENCES retention.runs (id);
-- A hold's window is whole calendar days in one time zone, recorded with the hold: held_from and
-- held_until are that zone's midnights, so no clerk's or run's session time zone moves the days.
ALTER TABLE retention.holds ADD COLUMN IF NOT EXISTS time_zone text;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                   WHERE conrelid = 'retention.runs'::regclass AND conname = 'runs_status_check'
                     AND pg_catalog.pg_get_constraintdef(oid) LIKE '%restored%') THEN
        ALTER TABLE retention.runs DROP CONSTRAINT IF EXISTS runs_status_check;
        ALTER TABLE retention.runs ADD CONSTRAINT runs_status_check CHECK
            (status IN ('running', 'completed', 'stopped', 'interrupted', 'failed', 'recovered', 'restored'));
    END IF;
END $$;
INSERT INTO retention.schema_version (version) VALUES (5) ON CONFLICT DO NOTHING;

-- Version 6: rows kept as the newest of their group (a policy's keep_newest: Evergreen's "keep the
-- newest loans of each copy").
ALTER TABLE retention.batches ADD COLUMN IF NOT EXISTS kept_newest bigint NOT NULL DEFAULT 0;
INSERT INTO retention.schema_version (version) VALUES (6) ON CONFLICT DO NOTHING;

-- Version 7: what the compliance report reads from the signed record alone. Each run records its
-- policies' descriptions and rules in words (for its manifest, and a recovered run's), and a hold
-- records the operating-system user who placed or released it beside the database role, since a
-- shared role such as postgres names no person.
ALTER TABLE retention.run_policies ADD COLUMN IF NOT EXISTS record jsonb;
ALTER TABLE retention.holds ADD COLUMN IF NOT EXISTS placed_by_user text;
ALTER TABLE retention.holds ADD COLUMN IF NOT EXISTS released_by_user text;
-- What a hold covered when placed: per policy, the table and the patron and library columns with
-- their types. A run refuses while a covered policy names another table or column, or a changed
-- type no longer reads the held value: the hold would move to other rows or hold nothing.
ALTER TABLE retention.holds ADD COLUMN IF NOT EXISTS covered jsonb;
INSERT INTO retention.schema_version (version) VALUES (7) ON CONFLICT DO NOTHING;

-- Version 8: a hold's seal key. A manifest records no patron, so it records a seal of the hold's
-- patron and library: an HMAC-SHA256 keyed by this random value, which stays in the database. A
-- patron or library edited after a run no longer matches its seal (`verify --ledger`), and a
-- reader of the manifest, without the key, cannot test card numbers against it. Each existing hold
-- gets its own key (a volatile default is evaluated row by row).
ALTER TABLE retention.holds ADD COLUMN IF NOT EXISTS seal_key uuid NOT NULL DEFAULT gen_random_uuid();
INSERT INTO retention.schema_version (version) VALUES (8) ON CONFLICT DO NOTHING;
