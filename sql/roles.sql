-- Least-privilege roles for retention, for the reference schema (sql/reference-schema.sql).
-- Run as a superuser or the tables' owner after `retention setup`:
--   psql -v ON_ERROR_STOP=1 -f sql/roles.sql
-- then give each login role its group: GRANT retention_purger TO nightly_job;
--                                      GRANT retention_holds TO clerk_jane;
-- Idempotent: running it again changes nothing.
--
-- retention_purger runs `plan` and `run`. It may SELECT only the columns a policy's predicate
-- tests (key, age, patron, library, keep_when columns, and consent's key and flag), DELETE rows
-- of delete policies, and UPDATE only the `set` columns of anonymize policies. It has no SELECT
-- on names, addresses, phone, e-mail, birth date, licence or note columns: the tool cannot read
-- the personal data it erases, whatever its code does.
--
-- A new policy needs the same for its table; `retention check --catalog`, run as the purger, names
-- every missing privilege (exit 77). For a policy on public.visits with age seen, patron
-- visitor_id, libraries on branch and `set: {visitor_id: null, remarks: null}`:
--   GRANT SELECT (id, seen, visitor_id, branch) ON public.visits TO retention_purger;
--   GRANT UPDATE (visitor_id, remarks) ON public.visits TO retention_purger;
-- (a delete policy: GRANT DELETE ON public.visits TO retention_purger;). An anonymize policy
-- whose `set` does not clear its patron column must also be able to SELECT its `set` columns
-- (that is how a run tells an anonymized row); clear the patron column to avoid that.
-- A delete policy whose table other tables point to by foreign key also reads the pointing
-- columns only, to keep the rows they point to: for fines.loan_id referencing public.loans,
--   GRANT SELECT (loan_id) ON public.fines TO retention_purger;
-- (and the table's own pointing column, e.g. loans.renewal_of, for renewal chains).
-- A delete policy that declares triggers lists the rows it leaves to them by place and locks them:
--   GRANT SELECT (tableoid, ctid), UPDATE (id) ON public.visits TO retention_purger;
--
-- retention_holds is for staff who place and release legal holds (`retention hold ...`). `hold
-- place` reads each policy's patron and library columns (to refuse a library no row holds, and
-- to warn of a patron no row holds), nothing else of the tables: a new policy needs, e.g.,
--   GRANT SELECT (visitor_id, branch) ON public.visits TO retention_holds;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'retention_purger') THEN
        CREATE ROLE retention_purger NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'retention_holds') THEN
        CREATE ROLE retention_holds NOLOGIN;
    END IF;
END $$;

-- The tool's own schema.
GRANT USAGE ON SCHEMA retention TO retention_purger, retention_holds;
GRANT SELECT ON retention.schema_version TO retention_purger, retention_holds;
GRANT SELECT, INSERT, UPDATE ON retention.runs TO retention_purger;
GRANT SELECT, INSERT, UPDATE ON retention.run_policies TO retention_purger;
GRANT SELECT, INSERT ON retention.batches TO retention_purger;
GRANT SELECT, INSERT ON retention.run_remaining TO retention_purger;
GRANT SELECT ON retention.holds TO retention_purger;
GRANT SELECT, INSERT ON retention.holds TO retention_holds;
GRANT UPDATE (released_by, released_at, released_by_user) ON retention.holds TO retention_holds;
-- The cluster's system identifier names the database in manifests.
GRANT EXECUTE ON FUNCTION pg_catalog.pg_control_system() TO retention_purger;

-- The reference schema's policies (policies/*.yaml).
GRANT USAGE ON SCHEMA public TO retention_purger;
-- event-attendance: delete by attended_at.
GRANT SELECT (id, attended_at, patron_id) ON public.event_attendance TO retention_purger;
GRANT DELETE ON public.event_attendance TO retention_purger;
-- computer-signups: delete by started_at, per library.
GRANT SELECT (id, started_at, patron_id, library_code) ON public.computer_signups TO retention_purger;
GRANT DELETE ON public.computer_signups TO retention_purger;
-- loan-history: anonymize by returned_at, per library; keep_when on fines and status.
GRANT SELECT (id, returned_at, patron_id, library_code, fines_owed, status) ON public.loans TO retention_purger;
GRANT UPDATE (patron_id, notes) ON public.loans TO retention_purger;
-- loan-history's consent: the patron's id and keep_history flag, nothing else of patrons.
GRANT SELECT (id, keep_history) ON public.patrons TO retention_purger;

-- Hold staff: the policies' patron and library columns, which `hold place` looks values up in.
GRANT SELECT (patron_id) ON public.event_attendance TO retention_holds;
GRANT SELECT (patron_id, library_code) ON public.computer_signups TO retention_holds;
GRANT SELECT (patron_id, library_code) ON public.loans TO retention_holds;
