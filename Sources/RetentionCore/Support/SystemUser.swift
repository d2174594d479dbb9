import Foundation

/// The operating-system user running this program, as a hold records who placed or released it.
///
/// A hold's database role may be shared (`postgres`, a clerks' role) and so name no person; the
/// login the clerk ran the command as does. It is the process's real user from the password
/// database, not `$USER`, which anyone can set; under `sudo` it is `root (sudo by jsmith)`.
public enum SystemUser {
    public static var current: String {
        let uid = getuid()
        let name = getpwuid(uid).flatMap { String(validatingCString: $0.pointee.pw_name) } ?? "uid \(uid)"
        // Only a user the password database knows: the variable is anyone's to set, and it reaches signed evidence.
        if uid == 0, let by = ProcessInfo.processInfo.environment["SUDO_USER"], !by.isEmpty, by.count <= 64,
           getpwnam(by) != nil, !PatronNumbers.holdsANumber(by) {
            return "\(name) (sudo by \(by))"
        }
        return name
    }
}
