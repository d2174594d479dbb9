import Foundation
import Testing

/// The README and the guides in `docs/` agree with the tree: every file or folder they name in
/// backticks and every link they make exists, and the README stays an overview.
@Suite struct DocsTests {
    static let documents = ["README.md", "policies/README.md"] + ((try? FileManager.default.contentsOfDirectory(
        atPath: repositoryRoot.appendingPathComponent("docs").path)) ?? []).filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }

    /// Every file name of the repository (outside `.build`), for names written without their folder.
    static let fileNames: Set<String> = {
        var names = Set<String>()
        let enumerator = FileManager.default.enumerator(atPath: repositoryRoot.path)
        while let path = enumerator?.nextObject() as? String {
            if path.hasPrefix(".build") || path.hasPrefix(".git/") { enumerator?.skipDescendants(); continue }
            names.insert((path as NSString).lastPathComponent)
        }
        return names
    }()

    /// Whether a name from a document is in the tree: a path from the repository root (or from
    /// the core library's folder, as the architecture guide writes them), or a file name anywhere.
    static func exists(_ name: String, from document: String) -> Bool {
        let trimmed = name.hasSuffix("/") ? String(name.dropLast()) : name
        guard trimmed.contains("/") else { return fileNames.contains(trimmed) }
        let bases = [repositoryRoot, repositoryRoot.appendingPathComponent("Sources/RetentionCore"),
                     repositoryRoot.appendingPathComponent(document).deletingLastPathComponent()]
        return bases.contains { FileManager.default.fileExists(atPath: $0.appendingPathComponent(trimmed).standardizedFileURL.path) }
    }

    @Test(arguments: documents)
    func everyPathADocumentNamesExists(document: String) throws {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent(document), encoding: .utf8)
        // Names of the tree: a file with one of the repository's extensions, or a folder of it.
        let named = text.matches(of: /`([A-Za-z0-9_.+-]+(?:\/[A-Za-z0-9_.+-]+)*(?:\.(?:swift|sh|sql|yaml|yml|md|json|mustache|txt)|\/))`/)
            .map { String($0.1) }
            // Not the tree's: absolute paths, a manifest's name (`20261130T020000Z-000042.manifest.json`),
            // the server's own folders (`pg_wal/`).
            .filter { !$0.hasPrefix("/") && !$0.hasPrefix("..") && !($0.first?.isNumber ?? false) && !$0.hasPrefix("pg_") }
        let missing = named.filter { !Self.exists($0, from: document) }
        #expect(missing.isEmpty, "\(document) names \(missing)")
        let links = text.matches(of: /\]\(([^)#\s]+)(?:#[^)]*)?\)/).map { String($0.1) }.filter { !$0.hasPrefix("http") }
        let broken = links.filter { link in
            !FileManager.default.fileExists(atPath: repositoryRoot.appendingPathComponent(document).deletingLastPathComponent()
                .appendingPathComponent(link).standardizedFileURL.path)
        }
        #expect(broken.isEmpty, "\(document) links to \(broken)")
    }

    /// The architecture guide names every folder of the core library and of the scripts.
    @Test func theArchitectureGuideNamesEveryFolder() throws {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
        let core = repositoryRoot.appendingPathComponent("Sources/RetentionCore")
        let folders = try FileManager.default.contentsOfDirectory(at: core, includingPropertiesForKeys: [.isDirectoryKey])
            .filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }.map(\.lastPathComponent)
        let unnamed = folders.filter { !text.contains("`\($0)/") }
        #expect(unnamed.isEmpty, "docs/architecture.md does not name \(unnamed)")
    }

    /// No source file grows past 400 lines: a file that does has become two jobs.
    @Test func noSourceFileIsOver400Lines() throws {
        let enumerator = FileManager.default.enumerator(atPath: repositoryRoot.appendingPathComponent("Sources").path)
        var long: [String] = []
        while let path = enumerator?.nextObject() as? String {
            guard path.hasSuffix(".swift") else { continue }
            let text = try String(contentsOf: repositoryRoot.appendingPathComponent("Sources/\(path)"), encoding: .utf8)
            if text.split(separator: "\n", omittingEmptySubsequences: false).count > 401 { long.append(path) }
        }
        #expect(long.isEmpty, "over 400 lines: \(long)")
    }

    @Test func theReadmeSaysWhatItIsFirstAndStaysShort() throws {
        let lines = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count <= 250)
        #expect(lines[2].hasPrefix("`retention` keeps a library consortium's PostgreSQL database free of personal data"))
        // The two commands a newcomer needs come right after.
        #expect(lines.prefix(15).contains { $0.hasPrefix("scripts/demo.sh ") } && lines.prefix(15).contains { $0.hasPrefix("scripts/test.sh ") })
    }
}
