import Foundation
import Synchronization

/// The first SIGINT or SIGTERM received; 0 while none came.
private let receivedSignal = Atomic<Int32>(0)

/// Whether the run has reached the database; before that a stop signal ends the process at once.
private let reachedDatabase = Atomic<Bool>(false)

/// Turns SIGINT and SIGTERM into a request to stop after the current batch (SPEC §5: exit 130 / 143).
///
/// The handler only stores the signal's number (an atomic store is async-signal-safe); the run
/// looks at it between batches. A second signal changes nothing: the batch in flight finishes,
/// or rolls back whole, either way with its ledger record. Before the run has a connection
/// (reading files, connecting to a server that may never answer) nothing has changed and there is
/// nothing to record, so the handler ends the process with the signal's exit status (`_exit` is
/// async-signal-safe).
enum StopSignals {
    static func install() {
        // A parent may hand down a mask that blocks them (some process supervisors and test runners
        // do); a blocked SIGTERM would wait until the run ended by itself.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        for number in [SIGINT, SIGTERM] {
            signal(number) { caught in
                if !reachedDatabase.load(ordering: .relaxed) { _exit(caught == SIGINT ? 130 : 143) }
                _ = receivedSignal.compareExchange(expected: 0, desired: caught, ordering: .relaxed)
            }
        }
    }

    /// From now on a stop signal asks the run to stop rather than ending the process.
    @Sendable static func connected() { reachedDatabase.store(true, ordering: .relaxed) }

    /// The signal that asked to stop, or `nil`.
    @Sendable static func received() -> Int32? {
        let number = receivedSignal.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }
}
