import HTTPTypes
import Hummingbird
import NIOCore

/// `/heart-beat` (liveness, open to all, as PIXL) and the API's own description: `/openapi.json` and `/docs`.
struct ServiceController {
    func addLivenessRoutes(to routes: Routes<some RouterMethods<APIContext>>) {
        routes.on("/heart-beat", .get) { _, _ in JSONAnswer.json(.ok, "\"OK\"") }
    }

    func addDocumentationRoutes(to routes: Routes<some RouterMethods<APIContext>>) {
        routes.on("/openapi.json", .get) { _, _ in JSONAnswer.json(.ok, OpenAPIDocument.json) }
        routes.on("/docs", .get) { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: DocsPage.html)))
        }
    }
}
