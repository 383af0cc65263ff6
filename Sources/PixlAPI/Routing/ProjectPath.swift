import Foundation
import Hummingbird

/// The `{name}` of the `/projects/{name}/…` routes.
enum ProjectPath {
    /// The project's name from the path (percent-decoded), as messages carry it: 1 to 64 characters.
    static func name(_ context: APIContext) throws -> String {
        guard let raw = context.parameters.get("name"), let name = raw.removingPercentEncoding, (1...64).contains(name.count) else {
            throw APIError(.unprocessableContent, "the project name must be 1 to 64 characters")
        }
        return name
    }
}
