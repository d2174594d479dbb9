import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that a reader finds it absent or whole, never half written: the one way the
/// program writes manifests, metrics, reports and keys.
///
/// The bytes go to a temporary file beside the target, created exclusively with the final mode
/// (whatever the umask), all of them (`writeAll` loops over short writes), then `fsync`; the name
/// is taken with `rename` (replacing) or `link` (never replacing: fails when the name is taken);
/// then the folder is `fsync`ed so the name survives a crash.
enum AtomicFile {
    /// How the finished file takes its name.
    enum Naming {
        /// Replaces a file of that name (metrics, a report).
        case replace
        /// Never replaces one (manifests, keys): `.taken` when the name exists.
        case exclusive
    }

    /// What became of the name.
    enum Outcome {
        case written
        /// `.exclusive` only: a file of that name already exists; nothing was written.
        case taken
    }

    /// A write that failed, with the system's words, read at the moment it failed.
    struct Failure: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "cannot write \(path): \(reason)" }
    }

    @discardableResult
    static func write(_ data: Data, to path: String, mode: mode_t, naming: Naming) throws -> Outcome {
        let folder = (path as NSString).deletingLastPathComponent
        let temporary = (folder.isEmpty ? "." : folder) + "/.\((path as NSString).lastPathComponent).tmp-\(getpid())"
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(FilePath(temporary), .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec],
                                                 permissions: FilePermissions(rawValue: CModeT(mode)))
        } catch let error as Errno {
            throw Failure(path: path, reason: error.description)
        }
        do {
            // The mode exactly: the umask may not narrow a manifest's group read, nor widen anything.
            guard fchmod(descriptor.rawValue, mode) == 0 else { throw Errno(rawValue: errno) }
            try data.withUnsafeBytes { _ = try descriptor.writeAll($0) }
            guard fsync(descriptor.rawValue) == 0 else { throw Errno(rawValue: errno) }
            try descriptor.close()
        } catch let error as Errno {
            try? descriptor.close()
            unlink(temporary)
            throw Failure(path: path, reason: error.description)
        }
        defer { unlink(temporary) }
        switch naming {
        case .replace:
            guard rename(temporary, path) == 0 else { throw Failure(path: path, reason: Errno(rawValue: errno).description) }
        case .exclusive:
            guard link(temporary, path) == 0 else {
                let failure = Errno(rawValue: errno)
                if failure == .fileExists { return .taken }
                throw Failure(path: path, reason: failure.description)
            }
        }
        if let folderDescriptor = try? FileDescriptor.open(FilePath(folder.isEmpty ? "." : folder), .readOnly) {
            fsync(folderDescriptor.rawValue)
            try? folderDescriptor.close()
        }
        return .written
    }
}
