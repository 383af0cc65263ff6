import Foundation
import Synchronization

/// The web console's sessions (issue 14): a random id in an `HttpOnly`, `SameSite=Strict` cookie, and per session a
/// random CSRF token that every form of the console carries and every action checks. Kept in memory: a restart logs
/// everyone out, which is what a console of one service wants.
final class ConsoleSessions: Sendable {
    struct Session: Sendable {
        var csrf: String
        var expires: Date
    }

    static let cookieName = "pixl_console"
    /// How long a session lasts without use.
    static let lifetime: TimeInterval = 8 * 3600
    /// The most sessions kept; the oldest go first.
    static let maximum = 1000

    private let sessions = Mutex<[String: Session]>([:])

    /// A new session: its id (for the cookie) and CSRF token.
    func open(now: Date = Date()) -> (id: String, session: Session) {
        let id = Self.randomToken()
        let session = Session(csrf: Self.randomToken(), expires: now.addingTimeInterval(Self.lifetime))
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expires > now }
            if sessions.count >= Self.maximum, let oldest = sessions.min(by: { $0.value.expires < $1.value.expires })?.key {
                sessions[oldest] = nil
            }
            sessions[id] = session
        }
        return (id, session)
    }

    /// The session a request's cookie names, extended, or `nil` when there is none or it expired.
    func session(cookie: String?, now: Date = Date()) -> (id: String, session: Session)? {
        guard let id = cookie.flatMap(Self.sessionID) else { return nil }
        return sessions.withLock { sessions in
            guard var session = sessions[id], session.expires > now else {
                sessions[id] = nil
                return nil
            }
            session.expires = now.addingTimeInterval(Self.lifetime)
            sessions[id] = session
            return (id, session)
        }
    }

    func close(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    /// `Set-Cookie` for a session (or, with `nil`, one that clears it).
    static func setCookie(_ id: String?) -> String {
        let value = id ?? ""
        let age = id == nil ? 0 : Int(lifetime)
        return "\(cookieName)=\(value); Path=/ui; HttpOnly; SameSite=Strict; Max-Age=\(age)"
    }

    /// The session id in a `Cookie` header.
    static func sessionID(_ cookies: String) -> String? {
        for pair in cookies.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: " ") == cookieName else { continue }
            let value = String(parts[1])
            return value.count == 43 && value.utf8.allSatisfy { $0 < 128 } ? value : nil
        }
        return nil
    }

    /// 32 random bytes, base64url without padding (43 characters).
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Compares secrets in time independent of where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
