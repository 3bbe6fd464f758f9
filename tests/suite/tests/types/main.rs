//! Every kind of type `#[interface]` supports, through the real loader: the
//! `fixture-types` plugin (a cdylib built against
//! `tests/fixtures/types-interface`) is loaded from a plugins folder,
//! dispensed as `Plugin<dyn Types>`, and each method is called with plain
//! Rust values — edge values included — and its result checked. Then the
//! same methods as data: the method table says which can be called from the
//! command line, and the `types-app` binary (`plugboard_cli::run` with this
//! interface) calls them with JSON.
//!
//! Calls with plain Rust values are in `values`, calls as data in
//! `as_data`; both load the plugin with the helpers below.

use fixture_types_interface::{Types, HANDSHAKE};
use plugboard_host::{Plugin, PluginHost};
use plugboard_tests::PluginDir;

mod as_data;
mod values;

/// The plugins folder with the `types` plugin, and a host that loaded it.
fn loaded() -> (PluginDir, PluginHost) {
    let dir = PluginDir::new();
    dir.add("fixture-types");
    let host = PluginHost::builder()
        .handshake(HANDSHAKE)
        .interface::<dyn Types>()
        .build();
    let report = host.load_dir(dir.path());
    assert!(report.all_loaded(), "{report}");
    (dir, host)
}

fn types(host: &PluginHost) -> Plugin<dyn Types> {
    host.dispense("types").expect("the types plugin dispenses")
}
