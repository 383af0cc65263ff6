import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PixlAPI
import PixlCore
import PixlTesting
import Testing

/// Through a real HTTP/1.1 server: what the router tests cannot see.
struct LiveServerTests {
    @Test(.timeLimit(.minutes(1)))
    func connectionCloseHeadAndRedirectOverHTTP() async throws {
        let lanes = try Lanes.testing(rate: 0, clock: MockClock())
        let app = try APITestSupport.makeApplication(lanes: lanes)
        try await app.test(.live) { client in
            // PIXL's uvicorn 0.30.4 never answers a POST with `Connection: close`; we do.
            let post = try await client.execute(
                uri: "/token-bucket-refresh-rate", method: .post,
                headers: [.contentType: "application/json", .connection: "close"], body: ByteBuffer(string: "{\"rate\": 0.5}")
            )
            #expect(post.status == .ok)
            #expect(String(buffer: post.body) == "\"Successfully updated the refresh rate\"")
            let head = try await client.execute(uri: "/heart-beat", method: .head)
            #expect(head.status == .methodNotAllowed)
            #expect(head.headers[.allow] == "GET")
            let redirect = try await client.execute(uri: "/heart-beat/", method: .get)
            #expect(redirect.status == .temporaryRedirect)
            #expect(redirect.headers[.location]?.hasSuffix("/heart-beat") == true)
            #expect(redirect.headers[.location]?.hasPrefix("http://") == true)
        }
        #expect(await lanes.primary.bucket.rate == 0.5 && lanes.secondary.snapshot().configuredRate == 0.5)
    }
}
