import Foundation
import Hummingbird
import PixlAPI
import PixlCore
import PixlTesting

enum APITestSupport {
    /// The API over `store`; what workers would do is published on `events` by the test.
    static func makeApplication(
        store: InMemoryJobStore = InMemoryJobStore(),
        lanes: Lanes<MockClock>? = nil,
        events: JobEvents = JobEvents(),
        metrics: PixlMetrics = PixlMetrics(),
        maxInFlight: Int = 5,
        configuration: APIConfiguration = APIConfiguration()
    ) throws -> some ApplicationProtocol {
        metrics.follow(events)
        return Application(
            router: buildRouter(
                store: store,
                lanes: try lanes ?? .testing(rate: 0, clock: MockClock()),
                events: events,
                activity: WorkerActivity(maxInFlight: maxInFlight, events: events),
                metrics: metrics,
                configuration: configuration
            )
        )
    }

    static func message(
        mrn: String = "MRN1",
        accession: String = "ACC1",
        studyUID: String = "1.2.3.4",
        project: String = "test-project",
        procedure: Int = 4
    ) -> String {
        """
        {"mrn":"\(mrn)","accession_number":"\(accession)","study_uid":"\(studyUID)","series_uid":"","study_date":"2024-01-02",\
        "procedure_occurrence_id":\(procedure),"project_name":"\(project)","extract_generated_timestamp":"2024-02-03T04:05:06Z"}
        """
    }

    /// ``message(mrn:accession:studyUID:project:procedure:)`` decoded, for building store fixtures.
    static func decodedMessage(mrn: String = "MRN1", project: String = "test-project") throws -> ImagingMessage {
        try MessageDecoder.decode(Array(message(mrn: mrn, project: project).utf8))
    }

    static func object(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }
}
