import Foundation
import Synchronization

/// A one-line progress display on a terminal: per policy, rows done of rows due, rate and time left.
///
/// Only for a person watching: the command line uses it when stderr is a terminal, never in pipes,
/// files or cron mail. It shows counts only.
public final class TerminalProgress: RunProgress {
    private struct State {
        var policy = ""
        var due: Int64 = 0
        var started = ContinuousClock.now
    }

    private let state = Mutex(State())

    public init() {}

    public func started(policy: String, due: Int64) {
        state.withLock { $0 = State(policy: policy, due: due, started: .now) }
        draw(done: 0)
    }

    public func advanced(policy: String, done: Int64) {
        draw(done: done)
    }

    public func finished(policy: String) {
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private func draw(done: Int64) {
        let (policy, due, started) = state.withLock { ($0.policy, $0.due, $0.started) }
        let seconds = max(0.001, Double(milliseconds(ContinuousClock.now - started)) / 1000)
        let rate = Double(done) / seconds
        var line = "\(policy): \(TextTable.grouped(done)) of \(TextTable.grouped(due)) rows"
        if due > 0 { line += " (\(min(100, done * 100 / due))%)" }
        if done > 0 {
            line += ", \(TextTable.grouped(Int64(rate))) rows/s"
            let left = Int(Double(max(0, due - done)) / max(rate, 1))
            line += ", \(left / 60):\(String(format: "%02d", left % 60)) left"
        }
        // \r and erase-line redraw the same line; nothing of this reaches a file.
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }
}
