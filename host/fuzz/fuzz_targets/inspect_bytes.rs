//! The whole pre-load inspection (object parsing, segment checks, symbol
//! and metadata lookup) on arbitrary bytes: must never panic. Seed the corpus
//! with a real plugin (`cp target/debug/libgreeter.so host/fuzz/corpus/inspect_bytes/`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = plugboard_host::testing::inspect_bytes(data);
});
