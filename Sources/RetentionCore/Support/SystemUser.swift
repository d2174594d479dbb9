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
        if uid == 0, let by = ProcessInfo.processInfo.environment["SUDO_USER"], !by.isEmpty,
           !by.unicodeScalars.contains(where: \.isControlCharacter), by.count <= 64 {
            return "\(name) (sudo by \(by))"
        }
        return name
    }
}
