import Foundation

/// Policy files against the versions the ledger recorded: the register of policies tells versions
/// apart by `version`, so a file whose content changed while its version stayed would read as the
/// same policy before and after (a period shortened from 60 to 45 days under one version).
public enum PolicyVersions {
    /// One warning per policy whose file differs from the one the last run that applied it
    /// recorded under the same version; none before `retention setup` or a first run.
    public static func unchangedVersionWarnings(_ policies: [Policy], on connection: Connection) throws -> [String] {
        guard try connection.query("SELECT pg_catalog.to_regclass('retention.run_policies') IS NOT NULL AS ready")
            .single().bool("ready") else { return [] }
        var recorded: [String: (run: Int64, version: Int64, sha256: String)] = [:]
        for row in try connection.query("""
            SELECT DISTINCT ON (p.policy) p.policy, p.run_id, p.version::int8 AS version, p.policy_sha256
            FROM retention.run_policies p ORDER BY p.policy, p.run_id DESC
            """).rows {
            recorded[try row.string("policy")] = (try row.int64("run_id"), try row.int64("version"), try row.string("policy_sha256"))
        }
        return policies.compactMap { policy in
            guard let last = recorded[policy.name], last.version == Int64(policy.version), last.sha256 != policy.sha256 else { return nil }
            return "policy \(policy.name): the file changed since run \(last.run) applied it, but its version is still "
                + "\(policy.version); raise version (and say why in the description) so the manifests and the report tell the two apart"
        }
    }
}
