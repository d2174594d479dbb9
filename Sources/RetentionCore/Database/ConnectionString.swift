import CLibPQ

/// Connection strings and URIs as libpq reads them: checked, masked and resolved without connecting.
extension Connection {
    /// Why libpq cannot parse a conninfo string or URI (`dbname='x` with its quote open), or `nil`
    /// when it can: a bad command line (64), told before anything connects.
    public static func conninfoProblem(_ conninfo: String) -> String? {
        var errmsg: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errmsg) else {
            defer { if let errmsg { PQfreemem(errmsg) } }
            return errmsg.map { oneLine(String(cString: $0)) } ?? "not a connection string"
        }
        PQconninfoFree(options)
        return nil
    }

    /// Whether a conninfo string or URI carries a password or sslpassword (which belong in a .pgpass file
    /// or a service file instead).
    public static func conninfoHasPassword(_ conninfo: String) -> Bool {
        parsed(conninfo) { text(of: $0, password: .mask) != text(of: $0, password: .drop) } ?? false
    }

    /// A conninfo string or URI as `keyword='value'` pairs with any password masked, for showing to a person.
    public static func maskingPassword(_ conninfo: String) -> String {
        parsed(conninfo) { text(of: $0, password: .mask) } ?? "(not a connection string)"
    }

    static func parsed<T>(_ conninfo: String, _ body: (UnsafeMutablePointer<PQconninfoOption>) -> T) -> T? {
        var errmsg: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errmsg) else {
            if let errmsg { PQfreemem(errmsg) }
            return nil
        }
        defer { PQconninfoFree(options) }
        return body(options)
    }

    enum PasswordText { case keep, drop, mask }

    /// The options that are set, as a conninfo string of quoted values.
    static func text(of options: UnsafeMutablePointer<PQconninfoOption>, password: PasswordText) -> String {
        var parts: [String] = []
        var option = options
        while let keyword = option.pointee.keyword {
            let name = String(cString: keyword)
            // sslpassword unlocks the client key: as secret as the password.
            let secret = name == "password" || name == "sslpassword"
            if let value = option.pointee.val, value.pointee != 0, !(secret && password == .drop) {
                let text = secret && password == .mask ? "********" : String(cString: value)
                let quoted = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
                parts.append("\(name)='\(quoted)'")
            }
            option += 1
        }
        return parts.joined(separator: " ")
    }

    /// Where a connection with `conninfo` (and libpq's environment and defaults) would go, without
    /// connecting: database, user, host and port as libpq resolves them; never a password.
    public static func target(of conninfo: String?) -> String {
        var values: [String: String] = [:]
        func collect(_ options: UnsafeMutablePointer<PQconninfoOption>) {
            var option = options
            while let keyword = option.pointee.keyword {
                let name = String(cString: keyword)
                if values[name] == nil, let value = option.pointee.val, value.pointee != 0 { values[name] = String(cString: value) }
                option += 1
            }
        }
        // The string's own values first, then the environment's and libpq's defaults.
        if let conninfo { _ = parsed(conninfo) { collect($0) } }
        if let defaults = PQconndefaults() {
            collect(defaults)
            PQconninfoFree(defaults)
        }
        let host = values["host"] ?? values["hostaddr"] ?? "localhost"
        return "database \(visible(values["dbname"] ?? values["user"] ?? "?")) as \(visible(values["user"] ?? "?")) "
            + "on \(visible(host)) port \(visible(values["port"] ?? "5432"))"
    }

    /// The libpq environment variables a conninfo string sets again (with a value of its own), so
    /// the environment's value is not the one used: `PGHOST` when the string names `host`, and so
    /// on. Names only, never values.
    public static func overriddenEnvironment(by conninfo: String, environment: [String: String]) -> [String] {
        let variables = ["host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE",
                         "user": "PGUSER", "service": "PGSERVICE"]
        let set = keywords(setIn: conninfo)
        return variables.filter { set.contains($0.key) && !(environment[$0.value] ?? "").isEmpty }.map(\.value).sorted()
    }

    /// The keywords a conninfo string or URI gives a value of its own (none when libpq cannot parse it).
    static func keywords(setIn conninfo: String) -> Set<String> {
        parsed(conninfo) { options -> Set<String> in
            var names = Set<String>()
            var option = options
            while let keyword = option.pointee.keyword {
                if let value = option.pointee.val, value.pointee != 0 { names.insert(String(cString: keyword)) }
                option += 1
            }
            return names
        } ?? []
    }
}
