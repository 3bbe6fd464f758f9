//! `demo-app`: the demo application's plugin command line — its host
//! configuration handed to `plugboard_cli::run`, which gives it `list`,
//! `check`, `inspect`, `call`, `watch` and the signing tools.

use plugboard_demo::{
    AddHelper, Counter, Greeter, HostAdder, KeyValue, ADD_HELPER_SERVICE, HANDSHAKE,
    PROTOCOL_VERSION,
};
use plugboard_host::PluginHost;

fn main() -> std::process::ExitCode {
    plugboard_cli::run(
        PluginHost::builder()
            .host_info("demo-app", env!("CARGO_PKG_VERSION"))
            .handshake(HANDSHAKE)
            .protocol_versions([PROTOCOL_VERSION])
            .interface::<dyn Greeter>()
            .interface::<dyn KeyValue>()
            .interface::<dyn Counter>()
            .service::<dyn AddHelper, _>(ADD_HELPER_SERVICE, || HostAdder),
    )
}
