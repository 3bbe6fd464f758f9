use plugboard_interface::{interface, PluginError};

#[interface(version = "1.1")]
pub trait Transformer: Send + Sync {
    fn transform(&self, input: &str) -> Result<String, PluginError>;
}

fn main() {}
