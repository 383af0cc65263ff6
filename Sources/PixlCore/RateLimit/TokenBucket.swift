/// A token bucket that paces how fast messages start (SPEC §3 step 2).
///
/// Tokens accrue at ``rate`` per second up to ``capacity`` (5, as PIXL). ``take()`` hands out one token,
/// waiting for it when the bucket is empty. Waiters are served first come, first served; each sleeps on the
/// injected clock until the moment its token will be there, so nothing polls. A rate of 0 pauses the bucket:
/// waiters keep waiting, nothing is lost, and they resume when a positive rate is set. ``setRate(_:)`` takes
/// effect at once: every waiter is woken and re-computes its wait.
///
/// ```swift
/// let bucket = try TokenBucket(rate: 0, clock: ContinuousClock())
/// try await bucket.setRate(4)
/// try await bucket.take()   // then query an archive
/// ```
public actor TokenBucket<C: Clock> where C.Duration == Duration {
    // MARK: Member variables

    /// PIXL's capacity: at most this many messages start in a burst.
    public static var defaultCapacity: Int { 5 }

    /// The most tokens the bucket holds.
    public nonisolated let capacity: Int
    private let clock: C
    /// Tokens per second; 0 means paused.
    public private(set) var rate: Double
    /// Tokens in the bucket at ``stamp``; never above ``capacity``.
    private var tokens: Double
    private var stamp: C.Instant
    /// Waiters in arrival order.
    private var queue: [UInt64] = []
    private var nextWaiterID: UInt64 = 0
    /// Bumped whenever waiters must re-compute their wait (new rate, a waiter left).
    private var generation: UInt64 = 0
    /// Sleeping waiters' wake-up signals, by wait id.
    private var signals: [UInt64: CheckedContinuation<Void, Never>] = [:]
    /// Waits whose signal is still expected to be registered or resumed.
    private var activeWaits: Set<UInt64> = []
    private var abandonedWaits: Set<UInt64> = []
    /// How many tokens have been handed out since creation.
    public private(set) var granted: Int = 0

    /// Floating-point slack when checking whether a token has accrued.
    private static var epsilon: Double { 1e-9 }

    // MARK: Initialization

    /// - Parameters:
    ///   - rate: tokens per second, finite and not negative; 0 starts paused (PIXL's default).
    ///   - capacity: the most tokens held at once.
    ///   - initialTokens: tokens in the bucket at the start; `nil` means full, as PIXL.
    ///   - clock: the clock to pace by; tests inject a manual one.
    public init(rate: Double, capacity: Int = TokenBucket.defaultCapacity, initialTokens: Int? = nil, clock: C) throws(InvalidRateError) {
        guard Self.isValid(rate: rate) else { throw InvalidRateError(rate: rate) }
        precondition(capacity >= 1, "a token bucket needs a capacity of at least 1")
        self.capacity = capacity
        self.clock = clock
        self.rate = rate
        self.tokens = Double(min(max(initialTokens ?? capacity, 0), capacity))
        self.stamp = clock.now
    }

    // MARK: Methods

    /// Whether `rate` can be set (``RateLimits/allows(_:)``).
    public static func isValid(rate: Double) -> Bool {
        RateLimits.allows(rate)
    }

    /// Sets a new rate, effective at once; 0 pauses.
    /// - Throws: ``InvalidRateError`` when the rate is negative or not finite (nothing changes).
    public func setRate(_ newRate: Double) throws(InvalidRateError) {
        guard Self.isValid(rate: newRate) else { throw InvalidRateError(rate: newRate) }
        refill()
        rate = newRate
        wakeAll()
    }

    /// Tokens available now (fractional).
    public var availableTokens: Double {
        refill()
        return tokens
    }

    /// How many callers are waiting in ``take()``.
    public var waiting: Int { queue.count }

    /// Takes one token, waiting until there is one.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled while waiting; no token is spent.
    public func take() async throws {
        try Task.checkCancellation()
        refill()
        if queue.isEmpty, rate > 0, tokens >= 1 - Self.epsilon {
            grant()
            return
        }
        let id = nextWaiterID
        nextWaiterID &+= 1
        queue.append(id)
        do {
            while true {
                try Task.checkCancellation()
                refill()
                guard let position = queue.firstIndex(of: id) else { preconditionFailure("waiter left the queue") }
                // A waiter may take once the tokens cover it and everyone ahead of it.
                if rate > 0, tokens >= Double(position + 1) - Self.epsilon {
                    queue.remove(at: position)
                    grant()
                    return
                }
                // Aim a little before the exact instant (half the slack the check allows), so that rounding in
                // the clock's arithmetic never leaves a waiter asleep past its token.
                let deadline: C.Instant? =
                    rate > 0 ? stamp.advanced(by: .seconds(max(0, Double(position + 1) - tokens - Self.epsilon / 2) / rate)) : nil
                try await wait(until: deadline, generation: generation)
            }
        } catch {
            if let position = queue.firstIndex(of: id) { queue.remove(at: position) }
            // Those behind this waiter can now be served sooner.
            wakeAll()
            throw error
        }
    }

    // MARK: Private

    private func grant() {
        tokens -= 1
        granted += 1
    }

    /// Adds the tokens accrued since ``stamp``.
    private func refill() {
        let now = clock.now
        let elapsed = stamp.duration(to: now)
        if elapsed > .zero, rate > 0 {
            tokens = min(Double(capacity), tokens + elapsed.seconds * rate)
        }
        stamp = now
    }

    private func wakeAll() {
        generation &+= 1
        let waiting = signals
        signals.removeAll()
        for continuation in waiting.values { continuation.resume() }
    }

    /// Sleeps until `deadline` (forever when `nil`) or until the waiters are woken, whichever comes first.
    private func wait(until deadline: C.Instant?, generation observed: UInt64) async throws {
        let waitID = nextWaiterID
        nextWaiterID &+= 1
        activeWaits.insert(waitID)
        defer {
            activeWaits.remove(waitID)
            abandonedWaits.remove(waitID)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let deadline {
                let clock = self.clock
                group.addTask { try await clock.sleep(until: deadline, tolerance: nil) }
            }
            group.addTask { await self.waitForSignal(waitID: waitID, generation: observed) }
            defer {
                group.cancelAll()
                abandon(waitID: waitID)
            }
            _ = try await group.next()
        }
    }

    private func waitForSignal(waitID: UInt64, generation observed: UInt64) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                if observed != generation || abandonedWaits.contains(waitID) || !activeWaits.contains(waitID) || Task.isCancelled {
                    continuation.resume()
                } else {
                    signals[waitID] = continuation
                }
            }
        } onCancel: {
            Task { await self.abandon(waitID: waitID) }
        }
    }

    private func abandon(waitID: UInt64) {
        if let continuation = signals.removeValue(forKey: waitID) {
            continuation.resume()
        } else if activeWaits.contains(waitID) {
            abandonedWaits.insert(waitID)
        }
    }
}

extension TokenBucket where C == ContinuousClock {
    /// A bucket on the continuous clock.
    public init(rate: Double, capacity: Int = TokenBucket.defaultCapacity) throws(InvalidRateError) {
        try self.init(rate: rate, capacity: capacity, clock: ContinuousClock())
    }
}

/// The rates a token bucket may run at. A rate below the range would make waits that no clock can express (1e-30 per
/// second is a wait of 1e30 seconds); one above it is no limit at all.
public enum RateLimits {
    /// Messages started per second when not paused: one every ~17 minutes to 10,000 a second.
    public static let running: ClosedRange<Double> = 0.001...10_000

    /// Whether a bucket may run at `rate`: 0 (paused), or within ``running``.
    public static func allows(_ rate: Double) -> Bool {
        rate == 0 || running.contains(rate)
    }

    /// "0 (paused) or from 0.001 to 10000 messages per second".
    public static var description: String {
        "0 (paused) or from \(running.lowerBound) to \(Int(running.upperBound)) messages per second"
    }
}

/// A token bucket rate outside ``RateLimits``.
public struct InvalidRateError: Error, Sendable, Hashable, CustomStringConvertible {
    public var rate: Double

    public init(rate: Double) {
        self.rate = rate
    }

    public var description: String { "the rate must be \(RateLimits.description) (had \(rate))" }
}
