import PixlCore
import PixlImaging
import PixlTesting
import Testing

/// The job follower on a `MockClock`: polls from 20 ms growing ×1.25, and times out only on time spent
/// past `Pending`, with no real sleeping.
struct JobFollowerTests {
    @Test(.timeLimit(.minutes(1)))
    func timeInPendingDoesNotCountTowardsTheTimeout() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setJob(OrthancJob(id: "move", state: .pending))
        let clock = MockClock()
        let follower = JobFollower(orthanc: orthanc, timeout: .seconds(10), clock: clock)
        let result = Task { try await follower.follow("move") }
        // A minute queued inside Orthanc: still followed.
        for _ in 0..<60 {
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
        }
        await clock.waitForSleepers(1)
        await orthanc.setJob(OrthancJob(id: "move", state: .running))
        // Running: the timeout counts from the first poll that saw it run (one second of polls from then).
        for _ in 0..<11 {
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
        }
        // Ten seconds running: still followed.
        await clock.waitForSleepers(1)
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        #expect(try await result.value == .timedOut)
    }

    @Test(.timeLimit(.minutes(1)))
    func pollsPromptlyThenBacksOff() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setJob(OrthancJob(id: "move", state: .running))
        let clock = MockClock()
        let follower = JobFollower(orthanc: orthanc, timeout: .seconds(240), clock: clock)
        let result = Task { try await follower.follow("move") }
        var delay = Duration.milliseconds(20)
        for poll in 1...5 {
            await clock.waitForSleepers(1)
            #expect(await orthanc.calls(matching: "GET /jobs/move").count == poll)
            clock.advance(by: delay)
            delay = min(delay * 1.25, .seconds(1))
        }
        await clock.waitForSleepers(1)
        await orthanc.setJob(OrthancJob(id: "move", state: .failure, errorDescription: "Error in the network protocol", errorDetails: "DicomAssociation"))
        clock.advance(by: delay)
        #expect(try await result.value == .failed(description: "Error in the network protocol", details: "DicomAssociation"))
        #expect(await orthanc.calls(matching: "GET /jobs/move").count == 7)
    }
}
