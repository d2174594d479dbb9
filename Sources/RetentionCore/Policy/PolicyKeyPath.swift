/// A place in a policy file that a message found later (against the catalog, or against the
/// folder's other policies) points to; its line and column are where the key stood
/// (`Policy.positions`). Typed, so a misspelt place fails to compile instead of losing its position.
public enum PolicyKeyPath: Hashable, Sendable, CustomStringConvertible {
    case name, version, description, table, key, age, retain, action, cascade, triggers, set, patron, consent, keepWhen, keepNewest,
         libraries
    /// `set.notes`
    case setColumn(String)
    /// `cascade.public.loan_notes`
    case cascadeTable(QualifiedName)
    /// `triggers.public.note_loan_deleted`
    case triggerFunction(QualifiedName)
    /// `consent.table`, `consent.key`, `consent.keep_if`, `consent.since`, ...
    case consentTable, consentKey, consentKeepIf, consentSince, consentKeepFor, consentKeepNewest, consentRankBy
    /// `keep_newest.per`, `keep_newest.count`, `keep_newest.order`
    case keepNewestPer, keepNewestCount, keepNewestOrder
    /// `keep_when.0`: a condition, by its place in the list.
    case keepWhenCondition(Int)
    /// `libraries.column`
    case librariesColumn
    /// `libraries.retain.BANGOR`, `libraries.names.ORONO`
    case libraryRetain(String), libraryName(String)

    /// The keys of a policy's top level, in the order the format lists them.
    static let topLevel: [PolicyKeyPath] = [.name, .version, .description, .table, .key, .age, .retain, .action, .cascade,
                                            .triggers, .set, .patron, .consent, .keepWhen, .keepNewest, .libraries]

    /// The path as a dotted text of the file's keys: `keep_when.0`, `libraries.retain.BANGOR`.
    public var description: String {
        switch self {
        case .name: "name"
        case .version: "version"
        case .description: "description"
        case .table: "table"
        case .key: "key"
        case .age: "age"
        case .retain: "retain"
        case .action: "action"
        case .cascade: "cascade"
        case .triggers: "triggers"
        case .set: "set"
        case .patron: "patron"
        case .consent: "consent"
        case .keepWhen: "keep_when"
        case .keepNewest: "keep_newest"
        case .libraries: "libraries"
        case .setColumn(let column): "set.\(column)"
        case .cascadeTable(let table): "cascade.\(table.schema).\(table.name)"
        case .triggerFunction(let function): "triggers.\(function.schema).\(function.name)"
        case .consentTable: "consent.table"
        case .consentKey: "consent.key"
        case .consentKeepIf: "consent.keep_if"
        case .consentSince: "consent.since"
        case .consentKeepFor: "consent.keep_for"
        case .consentKeepNewest: "consent.keep_newest"
        case .consentRankBy: "consent.rank_by"
        case .keepNewestPer: "keep_newest.per"
        case .keepNewestCount: "keep_newest.count"
        case .keepNewestOrder: "keep_newest.order"
        case .keepWhenCondition(let index): "keep_when.\(index)"
        case .librariesColumn: "libraries.column"
        case .libraryRetain(let library): "libraries.retain.\(library)"
        case .libraryName(let library): "libraries.names.\(library)"
        }
    }
}
