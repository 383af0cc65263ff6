import FuzzChecks

/// libFuzzer's entry point: PIXL's wire form, one field at a time. The first byte picks the field (`study_date`,
/// `procedure_occurrence_id` or `extract_generated_timestamp`), the rest is its JSON value, set in an otherwise
/// valid message of PIXL's CLI (pickled date and aware datetime, whose objects a `py/id` may refer to). So the
/// mutations go to the pickled shapes (dates, time zones, numpy scalars, pandas timestamps, back-references).
/// Properties as for whole messages (``Check/decodeMessage(_:)``).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireForm(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    guard let selector = input.first else { return 0 }
    var values = WireTemplate.values
    values[Int(selector) % values.count] = Array(input.dropFirst())
    Check.decodeMessage(WireTemplate.body(values))
    return 0
}

/// A wire-form message of PIXL's CLI (fixture 001's shape, synthetic identifiers) with three fields to replace.
enum WireTemplate {
    static let values: [[UInt8]] = [
        #"{"py/object": "datetime.date", "__reduce__": [{"py/type": "datetime.date"}, ["B+YBAQ=="]]}"#,
        "0",
        #"{"py/object": "datetime.datetime", "__reduce__": [{"py/type": "datetime.datetime"}, ["B+cBAQABAAAAAA==", {"py/reduce": [{"py/type": "datetime.timezone"}, {"py/tuple": [{"py/reduce": [{"py/type": "datetime.timedelta"}, {"py/tuple": [0, 0, 0]}]}]}]}]]}"#,
    ].map { Array($0.utf8) }

    static func body(_ values: [[UInt8]]) -> [UInt8] {
        Array(#"{"py/object": "core.patient_queue.message.Message", "mrn": "FUZZ-MRN-0001", "accession_number": "FUZZ-ACC-01", "study_uid": "1.2.3.4", "study_date": "#.utf8)
            + values[0] + Array(#", "procedure_occurrence_id": "#.utf8) + values[1]
            + Array(#", "project_name": "fuzz-project", "extract_generated_timestamp": "#.utf8) + values[2] + Array("}".utf8)
    }
}
