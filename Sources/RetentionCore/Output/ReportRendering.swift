import Foundation
import Mustache

/// Renders the compliance report as JSON, or as one self-contained HTML file through the
/// `report.mustache` template (swift-mustache escapes every value by default).
///
/// Charts are inline SVG whose geometry is computed here as numbers; every text in the page,
/// SVG titles included, goes through the template's escaping, and text from policy files, holds
/// or the database is isolated with `<bdi>` so a right-to-left mark cannot reorder its neighbours.
public enum ReportRendering {
    public static func json(_ report: ComplianceReport) -> String { JSONOutput.text(report) }

    /// The paper the page prints on: US Letter by default (a Maine board prints Letter), or A4.
    public enum Paper: String, Sendable, CaseIterable {
        case letter, a4
        var css: String { self == .letter ? "letter" : "A4" }
    }

    public static func html(_ report: ComplianceReport, paper: Paper = .letter) throws -> String {
        MustacheContentTypes.register(Escaping(), named: Escaping.name)
        let template = try MustacheTemplate(string: String(decoding: PackageResources.report_mustache, as: UTF8.self))
        return template.render(ReportPage(report, paper: paper))
    }

    /// The page's escaping, applied by the template to every value (its `CONTENT_TYPE` pragma).
    ///
    /// Per Unicode scalar, not per character: swift-mustache's own HTML escaping looks characters up
    /// whole, so a quote followed by a combining mark would pass. Bidirectional formatting and other
    /// control characters are shown as `[U+202E]`: a right-to-left override in a hold reason must
    /// not make the words around it read backwards, and the reader should see it is there.
    struct Escaping: MustacheContentType {
        static let name = "RETENTION_HTML"

        func escapeText(_ text: String) -> String {
            var out = ""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "&": out += "&amp;"
                case "\"": out += "&quot;"
                case "'": out += "&#39;"
                case "\n", "\t": out.unicodeScalars.append(scalar)
                default:
                    let bidi = (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
                        || [0x200E, 0x200F, 0x061C].contains(scalar.value)
                    if bidi || scalar.isControlCharacter {
                        out += String(format: "[U+%04X]", scalar.value)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out
        }
    }

    /// Refuses (64) a report file that would replace the evidence it reports on: a file in the
    /// manifest or checkpoint folder, a manifest or checkpoint by its name, or a key.
    public static func refuseOutput(_ out: String, over folders: [String], keys: [String]) throws {
        let target = resolvedPath(out), name = (out as NSString).lastPathComponent
        let inside = folders.map(resolvedPath).contains { target.hasPrefix($0 + "/") || target == $0 }
        guard !inside, !keys.map(resolvedPath).contains(target), !name.hasSuffix(".manifest.json"),
              !(name.hasPrefix("checkpoint-") && name.hasSuffix(".json")) else {
            throw UsageError("--out \(visible(out)) would replace the evidence the report is made from (a manifest, a "
                             + "checkpoint or a key, or a file in their folders); write the report elsewhere", exitCode: .usage)
        }
    }

    /// Writes the report whole or not at all (`AtomicFile`), mode 0640 like the manifests; a folder
    /// that cannot take it is 78.
    public static func write(_ text: String, to path: String) throws {
        do {
            try AtomicFile.write(Data(text.utf8), to: path, mode: 0o640, naming: .replace)
        } catch let failure as AtomicFile.Failure {
            throw UsageError("cannot write the report: \(failure.description)", exitCode: .config)
        }
    }
}
