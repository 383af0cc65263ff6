import PixlTesting
import Testing

/// The in-memory store behaves as the SQL stores do (the in-process tests rely on it).
struct InMemoryJobStoreTests {
    @Test(arguments: JobStoreConformance.Check.allCases)
    func conforms(_ check: JobStoreConformance.Check) async throws {
        try await JobStoreConformance.run(check, on: InMemoryJobStore())
    }
}
