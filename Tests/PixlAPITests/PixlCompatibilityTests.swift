import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import PixlAPI
import PixlCore
import PixlTesting
import Testing

struct PixlCompatibilityTests {
    /// Replays every exchange recorded against PIXL's FastAPI, in order, comparing status, content type and
    /// body byte for byte; the non-finite rates (#22, #24) are where we differ on purpose (SPEC §5).
    @Test(.timeLimit(.minutes(1)))
    func replaysEveryRecordedExchange() async throws {
        let exchanges = try RecordedExchange.load()
        #expect(exchanges.map(\.number) == Array(1...32))
        let app = try APITestSupport.makeApplication()
        try await app.test(.router) { client in
            for exchange in exchanges {
                var headers = HTTPFields()
                headers[HTTPField.Name("Host")!] = "127.0.0.1:18000"
                for (name, value) in exchange.request.headers {
                    headers[HTTPField.Name(name)!] = value
                }
                let response = try await client.execute(
                    uri: exchange.request.path,
                    method: exchange.request.method,
                    headers: headers,
                    body: exchange.request.body.map { ByteBuffer(string: $0) }
                )
                let body = String(buffer: response.body)
                let contentType = response.headers[.contentType]
                switch exchange.number {
                case 22, 24:
                    // PIXL stores inf / NaN (then fails every GET with 500); we refuse them.
                    #expect(response.status.code == 422, "\(exchange)")
                    #expect(contentType == "application/json", "\(exchange)")
                    #expect(body.hasPrefix("{\"detail\":[{\"type\":\"finite_number\",\"loc\":[\"body\",\"rate\"]"), "\(exchange): \(body)")
                case 23, 25:
                    // The rate is still the last one accepted: 1.5, from #19.
                    #expect(response.status.code == 200, "\(exchange)")
                    #expect(contentType == "application/json", "\(exchange)")
                    #expect(body == "{\"rate\":1.5}", "\(exchange)")
                default:
                    #expect(response.status.code == exchange.response.status, "\(exchange)")
                    #expect(contentType == exchange.response.contentType, "\(exchange)")
                    if let total = exchange.response.truncatedTotalLength {
                        #expect(body.utf8.count == total, "\(exchange)")
                        #expect(body.hasPrefix(exchange.response.body), "\(exchange)")
                    } else {
                        #expect(body == exchange.response.body, "\(exchange)")
                    }
                    for (name, value) in exchange.response.headers where ["allow", "location"].contains(name) {
                        #expect(response.headers[HTTPField.Name(name)!] == value, "\(exchange): \(name)")
                    }
                }
            }
        }
    }

    @Test(arguments: [
        (-1.0, "-1.0"), (-0.5, "-0.5"), (-1e20, "-1e+20"), (-1e16, "-1e+16"), (-1e15, "-1000000000000000.0"),
        (-0.0001, "-0.0001"), (-0.00001, "-1e-05"), (-123.456, "-123.456"), (-1.2345678901234568e+20, "-1.2345678901234568e+20"),
        (-0.1, "-0.1"), (-2.5e-7, "-2.5e-07"), (-Double.leastNonzeroMagnitude, "-5e-324"), (-1.7976931348623157e308, "-1.7976931348623157e+308"),
    ])
    func pythonFloatRepresentation(value: Double, expected: String) {
        #expect(pythonFloatRepr(value) == expected)
        #expect(pythonFloatRepr(-value) == String(expected.dropFirst()))
    }

    @Test(arguments: [
        ("{\"rate\": \" 4.5 \"}", 200, "{\"rate\":4.5}"),
        ("{\"rate\": false}", 200, "{\"rate\":0.0}"),
        ("{\"rate\": 7}", 200, "{\"rate\":7.0}"),
        ("{\"rate\": 1e2}", 200, "{\"rate\":100.0}"),
        ("{\"rate\": \"inf\"}", 422, nil),
        ("{\"rate\": \"nan\"}", 422, nil),
        ("{\"rate\": -Infinity}", 422, nil),
        ("{\"rate\": 10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000}", 422, nil),
        ("{\"rate\": \"0x10\"}", 422, nil),
        ("{\"rate\": [1]}", 422, nil),
        ("{\"rate\": 1,}", 422, nil),
        ("{\"rate\": -0.25}", 406, nil),
        // Beyond PIXL (issue 11): rates no clock can pace by, or no limit at all, are refused before they reach the bucket.
        ("{\"rate\": 1e-30}", 422, nil),
        ("{\"rate\": 5e-324}", 422, nil),
        ("{\"rate\": \"1e-300\"}", 422, nil),
        ("{\"rate\": 1e5}", 422, nil),
        ("{\"rate\": -0.0}", 200, "{\"rate\":-0.0}"),  // paused, printed as Python prints it
        ("{\"rate\": 0.001}", 200, "{\"rate\":0.001}"),
        ("null", 422, nil),
        ("\"text\"", 422, nil),
    ] as [(String, Int, String?)])
    func laxRateInputs(body: String, status: Int, rateAfter: String?) async throws {
        let app = try APITestSupport.makeApplication()
        try await app.test(.router) { client in
            let response = try await client.execute(
                uri: "/token-bucket-refresh-rate", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)
            )
            #expect(response.status.code == status, "\(body): \(String(buffer: response.body))")
            #expect(response.headers[.contentType] == "application/json")
            let get = try await client.execute(uri: "/token-bucket-refresh-rate", method: .get)
            #expect(String(buffer: get.body) == rateAfter ?? "{\"rate\":0.0}")
        }
    }

    @Test func invalidJSONReportsPythonsMessageAndPosition() async throws {
        let app = try APITestSupport.makeApplication()
        try await app.test(.router) { client in
            let response = try await client.execute(
                uri: "/token-bucket-refresh-rate", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{\"rate\" 1}")
            )
            #expect(response.status == .unprocessableContent)
            #expect(
                String(buffer: response.body)
                    == "{\"detail\":[{\"type\":\"json_invalid\",\"loc\":[\"body\",8],\"msg\":\"JSON decode error\",\"input\":{},\"ctx\":{\"error\":\"Expecting ':' delimiter\"}}]}"
            )
        }
    }

    @Test func rateChangeReachesBothLanesAndMetrics() async throws {
        let lanes = try Lanes.testing(rate: 0, clock: MockClock())
        let metrics = PixlMetrics()
        let app = try APITestSupport.makeApplication(lanes: lanes, metrics: metrics)
        let exposition = try await app.test(.router) { client in
            _ = try await client.execute(uri: "/token-bucket-refresh-rate", method: .post, body: ByteBuffer(string: "{\"rate\": 3.25}"))
            return String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
        }
        #expect(await lanes.primary.bucket.rate == 3.25 && lanes.secondary.snapshot().configuredRate == 3.25)
        #expect(exposition.contains("pixl_token_bucket_rate_per_second 3.25"))
        #expect(exposition.contains("pixl_lane_rate_per_second{lane=\"secondary\"} 3.25"))
    }
}
