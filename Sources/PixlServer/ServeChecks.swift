import Foundation
import PixlCore
import PixlDatabase

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `serve` checks before it starts anything, so that a wrong setting stops it with one line naming the variable
/// (exit 2) instead of a trace, a hang, or a service that runs but cannot work.
enum ServeChecks {
    static func run(_ configuration: PixlConfiguration, database: DatabaseConfiguration) throws(ConfigurationError) {
        try resolves(configuration.api.host, variable: "PIXL_IMAGING_API_HOST")
        if let host = configuration.orthancRaw.url.host { try resolves(host, variable: "ORTHANC_RAW_URL") }
        if case .postgres(let server) = database.backend { try resolves(server.host, variable: "PIXL_DB_HOST") }
        if let rabbitMQ = configuration.rabbitMQ { try resolves(rabbitMQ.host, variable: "RABBITMQ_HOST") }
        try isFree(host: configuration.api.host, port: configuration.api.port)
    }

    /// The name resolves to an address (a name that never will fails at start rather than at every call).
    static func resolves(_ host: String, variable: String) throws(ConfigurationError) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &result)
        if let result { freeaddrinfo(result) }
        guard status == 0 else {
            throw ConfigurationError(variable: variable, problem: "names a host that does not resolve: '\(host)' (\(String(cString: gai_strerror(status))))")
        }
    }

    /// Nothing listens on the API's address yet (port 0 picks a free one).
    static func isFree(host: String, port: Int) throws(ConfigurationError) {
        guard port != 0 else { return }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let address = result else { return }
        defer { freeaddrinfo(result) }
        let socketFD = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
        guard socketFD >= 0 else { return }
        defer { close(socketFD) }
        // As the server binds: SO_REUSEADDR, so a port in TIME_WAIT after a restart is not "in use".
        var yes: Int32 = 1
        setsockopt(socketFD, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        if bind(socketFD, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 {
            let reason = String(cString: strerror(errno))
            throw ConfigurationError(variable: "PIXL_IMAGING_API_PORT", problem: "\(port) cannot be listened on at \(host): \(reason)")
        }
    }
}
