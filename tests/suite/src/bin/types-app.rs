//! `types-app`: the plugin command line of an application whose one
//! interface is the `Types` fixture (`tests/fixtures/types-interface`), for
//! the tests of calls from the command line with every supported type.

use fixture_types_interface::{Types, HANDSHAKE};
use plugboard_host::PluginHost;

fn main() -> std::process::ExitCode {
    plugboard_cli::run(
        PluginHost::builder()
            .handshake(HANDSHAKE)
            .interface::<dyn Types>(),
    )
}
