import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PixlAPI
import PixlCore
import PixlTesting
import Testing

/// `/lanes` (issue 13): both lanes as the PACS manager checks them, and one lane's rate or pause set without touching
/// the other; every invalid update refused naming the field.
struct LanesEndpointTests {
    private let json: HTTPFields = [.contentType: "application/json"]

    func lanes() throws -> Lanes<MockClock> {
        try .testing(
            rate: 2, maxInFlight: 3,
            ["SECONDARY_DICOM_SOURCE_MODALITY": "UCSECONDARYQR", "SECONDARY_DICOM_SOURCE_AE_TITLE": "PACSQR", "PIXL_SECONDARY_QUERY_HOURS": "never"],
            clock: MockClock()
        )
    }

    @Test func listsBothLanesWithTheirJobsWindowAndBreaker() async throws {
        let store = InMemoryJobStore()
        _ = try await store.enqueue([.synthetic(1), .synthetic(2)], now: Date())
        let app = try APITestSupport.makeApplication(store: store, lanes: try lanes())
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/lanes", method: .get)
            #expect(response.status == .ok)
            let lanes = try #require(try APITestSupport.object(String(buffer: response.body))["lanes"] as? [[String: Any]])
            #expect(lanes.map { $0["lane"] as? String } == ["primary", "secondary"])
            let primary = lanes[0], secondary = lanes[1]
            #expect(primary["modality"] as? String == "UCPRIMARYQR" && secondary["modality"] as? String == "UCSECONDARYQR")
            #expect(primary["rate"] as? Double == 2 && primary["configured_rate"] as? Double == 2 && primary["max_in_flight"] as? Int == 3)
            #expect(primary["queued"] as? Int == 2 && secondary["queued"] as? Int == 0)
            let primaryWindow = try #require(primary["window"] as? [String: Any])
            #expect(primaryWindow["open"] as? Bool == true && primaryWindow["next_change"] is NSNull && primaryWindow["hours"] as? String == "always")
            let secondaryWindow = try #require(secondary["window"] as? [String: Any])
            #expect(secondaryWindow["open"] as? Bool == false && secondaryWindow["hours"] as? String == "never")
            let breaker = try #require(secondary["breaker"] as? [String: Any])
            #expect(breaker["state"] as? String == "closed" && breaker["consecutive_faults"] as? Int == 0 && breaker["open_until"] is NSNull)
        }
    }

    @Test func setsOneLanesRateOrPause() async throws {
        let lanes = try lanes()
        let app = try APITestSupport.makeApplication(lanes: lanes)
        try await app.test(.router) { client in
            let paused = try await client.execute(
                uri: "/lanes", method: .post, headers: json, body: ByteBuffer(string: #"{"lane": "secondary", "paused": true}"#)
            )
            #expect(paused.status == .ok)
            #expect(try APITestSupport.object(String(buffer: paused.body))["paused"] as? Bool == true)
            let slower = try await client.execute(
                uri: "/lanes", method: .post, headers: json, body: ByteBuffer(string: #"{"lane": "primary", "rate": 0.25}"#)
            )
            #expect(try APITestSupport.object(String(buffer: slower.body))["configured_rate"] as? Double == 0.25)
        }
        #expect(lanes.secondary.isPaused && !lanes.primary.isPaused)
        #expect(await lanes.primary.bucket.rate == 0.25)
        #expect(await lanes.secondary.bucket.rate == 2)
    }

    @Test(arguments: [
        (#"{"lane": "tertiary", "rate": 1}"#, "lane"),
        (#"{"rate": 1}"#, "lane"),
        (#"{"lane": "primary"}"#, "rate, paused"),
        (#"{"lane": "primary", "rate": -1}"#, "rate"),
        (#"{"lane": "primary", "rate": 1e400}"#, "rate"),
        (#"{"lane": "primary", "rate": "fast"}"#, "rate"),
        (#"{"lane": "primary", "paused": "yes"}"#, "paused"),
        (#"{"lane": "primary", "rate": 1, "speed": 2}"#, "speed"),
        (#"["primary"]"#, "object"),
        ("lane=primary", "object"),
    ])
    func refusesAnInvalidUpdateNamingTheField(body: String, field: String) async throws {
        let lanes = try lanes()
        let app = try APITestSupport.makeApplication(lanes: lanes)
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/lanes", method: .post, headers: json, body: ByteBuffer(string: body))
            #expect(response.status == .unprocessableContent)
            let detail = try #require(try APITestSupport.object(String(buffer: response.body))["detail"] as? String)
            #expect(detail.contains(field), "\(detail)")
        }
        #expect(await lanes.primary.bucket.rate == 2 && !lanes.primary.isPaused)
    }
}
