//! The metadata section parser, on arbitrary bytes: must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(meta) = plugboard_interface::metadata::parse(data) {
        // What parses must survive a round trip.
        let again = plugboard_interface::metadata::parse(meta.to_text().as_bytes());
        assert_eq!(again.as_ref(), Ok(&meta));
    }
});
