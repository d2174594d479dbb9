import Foundation
import Synchronization

/// The first SIGINT or SIGTERM received; 0 while none came.
private let receivedSignal = Atomic<Int32>(0)

/// Turns SIGINT and SIGTERM into a request to stop after the current batch (SPEC §5: exit 130 / 143).
///
/// The handler only stores the signal's number (an atomic store is async-signal-safe); the run
/// looks at it between batches. A second signal changes nothing: the batch in flight finishes,
/// or rolls back whole, either way with its ledger record.
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
                _ = receivedSignal.compareExchange(expected: 0, desired: caught, ordering: .relaxed)
            }
        }
    }

    /// The signal that asked to stop, or `nil`.
    @Sendable static func received() -> Int32? {
        let number = receivedSignal.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }
}
