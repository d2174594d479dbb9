// libyaml, the C library Yams wraps: Yams's own interface brings its module in, and its event
// parser sees an anchor or alias before any tree is built (Yams composes first, and hashing a
// mapping key that is an alias to a deep tree already takes exponential time).
import CYaml
import Foundation
import Yams

/// Reads the files a person hands the program (policies, the config file, manifests) with bounds:
/// a regular file only (a FIFO would block, `/dev/zero` never end), no larger than the kind of file
/// can be, checked with `stat` before a byte is read.
enum BoundedFile {
    /// The most a policy or config file may hold: far beyond any real one.
    static let largestSettings = 1 << 20
    /// The most a manifest file may hold: a run's manifest is a few KiB per policy.
    static let largestManifest = 16 << 20

    /// The file's bytes, or what is wrong with it in words (for a message that names the file).
    /// `/dev/null` reads as empty (`RETENTION_CONFIG=/dev/null`: no config file).
    static func read(_ path: String, atMost limit: Int) -> Result<Data, Problem> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(.unreadable(String(cString: strerror(errno)))) }
        if path == "/dev/null" { return .success(Data()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .failure(.notAFile) }
        guard Int(info.st_size) <= limit else { return .failure(.tooLarge(Int(info.st_size), limit)) }
        guard let handle = FileHandle(forReadingAtPath: path) else { return .failure(.unreadable("permission denied")) }
        defer { try? handle.close() }
        // Read at most one byte past the limit: a file that grew since `stat` is still refused.
        guard let data = try? handle.read(upToCount: limit + 1) ?? Data() else { return .failure(.unreadable("read error")) }
        guard data.count <= limit else { return .failure(.tooLarge(data.count, limit)) }
        return .success(data)
    }

    /// Why a file was not read.
    enum Problem: Error, CustomStringConvertible {
        case unreadable(String)
        case notAFile
        case tooLarge(Int, Int)

        var description: String {
            switch self {
            case .unreadable(let reason): return "cannot be read (\(reason))"
            case .notAFile: return "is not a regular file"
            case .tooLarge(let size, let limit): return "is larger (\(size) bytes) than such a file can be (\(limit) bytes); not read"
            }
        }
    }

    /// Composes a YAML document, refusing anchors and aliases: a policy or config file has no use for
    /// them, and ten levels of aliases in 533 bytes expand to ten billion nodes for whoever walks them.
    /// libyaml's events are read first, so nothing is expanded before the refusal.
    static func composeYAML(_ text: String) throws -> Node? {
        if let position = firstAnchorOrAlias(in: text) { throw AnchorRefused(position: position) }
        return try Yams.compose(yaml: text)
    }

    /// Where the first anchor (`&name`) or alias (`*name`) stands, by libyaml's event parser; `nil`
    /// when there is none, or when the text is no YAML (composing then says why).
    static func firstAnchorOrAlias(in text: String) -> SourcePosition? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> SourcePosition? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) == 1 {
                defer { yaml_event_delete(&event) }
                let anchored: Bool
                switch event.type {
                case YAML_ALIAS_EVENT: anchored = true
                case YAML_SCALAR_EVENT: anchored = event.data.scalar.anchor != nil
                case YAML_SEQUENCE_START_EVENT: anchored = event.data.sequence_start.anchor != nil
                case YAML_MAPPING_START_EVENT: anchored = event.data.mapping_start.anchor != nil
                case YAML_STREAM_END_EVENT: return nil
                default: anchored = false
                }
                if anchored { return SourcePosition(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1) }
            }
            return nil
        }
    }

    /// A YAML anchor or alias (`&name`, `*name`, `<<: *name`), refused.
    struct AnchorRefused: Error {
        let position: SourcePosition
        var message: String { "uses a YAML anchor or alias (&name, *name); write each value out instead" }
    }
}
