use plugboard_interface::{interface, PluginError};

#[interface(version = "1.0.0")]
pub trait Consumer: Send + Sync {
    fn consume(self) -> Result<(), PluginError>;
}

fn main() {}
