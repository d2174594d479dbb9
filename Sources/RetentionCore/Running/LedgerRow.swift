/// One ledger row a batch wrote (`retention.batches`): a library's purged rows and kept rows by reason.
struct LedgerRow: RowDecodable {
    let library: String?
    let counts: Counts

    init(row: Row) throws {
        library = try row.optional("library")
        counts = try Counts(row: row)
    }
}
