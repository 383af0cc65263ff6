import HTTPTypes
import Hummingbird
import NIOCore
import PixlCore

/// An error answered as `{"detail": …}` with its status.
struct APIError: Error {
    var status: HTTPResponse.Status
    var detail: JSONValue

    init(status: HTTPResponse.Status, detail: JSONValue) {
        self.status = status
        self.detail = detail
    }

    init(_ status: HTTPResponse.Status, _ detail: String) {
        self.init(status: status, detail: .string(detail))
    }

    var response: Response {
        JSONAnswer.json(status, JSONValue.object(["detail": detail]).serialized())
    }
}

/// JSON answers: `content-type: application/json`, body as given.
enum JSONAnswer {
    static func json(_ status: HTTPResponse.Status, _ body: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func detail(_ status: HTTPResponse.Status, _ detail: String, headers: HTTPFields = [:]) -> Response {
        json(status, JSONValue.object(["detail": .string(detail)]).serialized(), headers: headers)
    }
}
