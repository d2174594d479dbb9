import Foundation

/// A path as the file system resolves it, so that two names of one file compare equal: symbolic
/// links followed and `.`/`..` removed; for a file that does not exist yet, its folder resolved.
public func resolvedPath(_ path: String) -> String {
    let url = URL(fileURLWithPath: path)
    guard FileManager.default.fileExists(atPath: path) else {
        return url.deletingLastPathComponent().resolvingSymlinksInPath().appendingPathComponent(url.lastPathComponent)
            .standardizedFileURL.path
    }
    return url.resolvingSymlinksInPath().standardizedFileURL.path
}
